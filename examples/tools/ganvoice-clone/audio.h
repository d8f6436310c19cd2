/* ganvoice-clone: any audio file GStreamer can read, decoded to mono float
 * samples at the file's own rate.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace clonecli {

struct Audio {
  std::vector<float> samples; /* mono (the channels mixed) */
  int rate = 0; /* Hz, the file's own */
};

/* Decodes the first audio stream of @path (uridecodebin ! audioconvert !
 * appsink). Throws CloneError with a message naming the file (no such
 * file, not media GStreamer can read, no audio, no samples), Interrupted
 * when @cancel is set. */
Audio decode_audio (const std::string &path, const std::atomic<bool> *cancel);

/* Does @path end in the extension of an audio (or audio-and-video) file
 * (wav, flac, ogg, mp3, ...)? */
bool has_audio_extension (const std::string &path);

} // namespace clonecli
