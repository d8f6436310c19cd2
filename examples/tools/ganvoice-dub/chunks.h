/* ganvoice-dub: one film in chunks: --plan (where to cut, as JSON),
 * --chunk (a range of the plain mix into a WAV file) and --assemble (the
 * chunks mastered once, encoded and muxed). See docs/dubbing.md,
 * "Rendering in chunks".
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <ganvoice/subtitles.h>

#include <gst/gst.h>

#include <vector>

namespace dub {

/* The mix's rate (dubbin's): chunk ranges are frame indices at it. */
constexpr int kMixRate = 48000;
/* Where cuts fall (ganvoice::ChunkPlanOptions::grid): 20 ms, whole in
 * 48 kHz frames, 22.05 kHz samples and ns. */
constexpr int kChunkGrid = 960;

/* --plan: prints the plan of @cues over the input (app->duration) on
 * stdout as JSON. */
bool print_plan (App *app, const std::vector<ganvoice::Cue> &cues);

/* --chunk: opens the temporary file and hangs the probes on the built
 * pipeline: the cues outside the range are not spoken, the dub's frames in
 * the range are written, the voice is watched. */
bool start_chunk (App *app);
/* --chunk, on the bus: the range is complete (or the dub ended): checks
 * that nothing crosses the cuts, writes the header and renames the file.
 * Stops the pipeline. */
void finish_chunk (App *app);
/* The name of the application message that says the range is written. */
extern const char *const kChunkDone;

/* --assemble: reads and checks the chunk files (their headers: contiguous
 * from frame 0, the last one to the end, one format). */
bool open_chunks (App *app);
/* --assemble: the source of the dub track: the chunks, in order, through
 * ganvoice::Mastering, in duckmix's 100 ms blocks. Added to the pipeline. */
GstElement *make_assembled_source (App *app);

/* --programme: makes the plan and DIR/programme-K.wav.partXXXXXX for each
 * chunk, bypasses duckmix (the programme as it is staged for the mix) and
 * hangs the probe that writes each chunk's frames to its file. */
bool start_programme (App *app, const std::vector<ganvoice::Cue> &cues);
/* --programme, at EOS: checks, writes the headers, renames every file,
 * prints the plan with the file names. Stops the pipeline. */
void finish_programme (App *app);

/* --chunk: is INPUT a chunk file (a programme-K.wav)? 0: no (a film),
 * 1: yes, its range is --chunk's and it is opened (app->duration is its
 * end), -1: an error was reported (another range, unreadable). */
int open_programme_input (App *app);
/* The opened programme file runs to the dub's end. */
bool programme_input_is_last (App *app);
/* --chunk from a programme file: the source of dubbin's programme, the
 * file's frames from START. Added to the pipeline. */
GstElement *make_programme_source (App *app);
/* --chunk from a programme file, after start_chunk: the mix and the voice
 * start at START (duckmix's start time, subcues' segment). */
bool start_programme_chunk (App *app);

} // namespace dub
