/* ganvoice-dub: --plan, --chunk and --assemble.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "chunks.h"

#include "output.h"
#include "progress.h"
#include "report.h"

#include <ganvoice/chunk-plan.h>
#include <ganvoice/ducking.h>

#include <gst/app/gstappsrc.h>
#include <gst/audio/audio.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include <unistd.h>

namespace dub {

const char *const kChunkDone = "ganvoice-dub-chunk-done";

namespace {

static_assert (G_BYTE_ORDER == G_LITTLE_ENDIAN,
    "chunk files are little-endian F32 WAV, written as in memory");

/* The chunk file: a WAV file of IEEE float samples (format 3), 48 kHz,
 * the dub's channels, with a "gvck" chunk before "data" that says which
 * frames of the dub it holds: "start=S end=E last=0|1" (ASCII, padded
 * with spaces to 64 bytes). The header has a fixed size. */
constexpr size_t kInfoSize = 64;
constexpr size_t kHeaderSize = 12 + (8 + 16) + (8 + kInfoSize) + 8;
/* A RIFF size is 32 bits. */
constexpr guint64 kMaxData = G_MAXUINT32 - kHeaderSize;

void
put32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

void
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
}

guint32
get32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

std::string
seconds (gint64 frame)
{
  return cue_time (gst_util_uint64_scale_int (frame, GST_SECOND, kMixRate));
}

/* duckmix's block in ganvoice-dub (output-buffer-duration 100 ms). */
constexpr gint64 kBlock = kMixRate / 10;

} // namespace

/* ---- --plan --------------------------------------------------------- */

namespace {

/* The film's chunks: the plan that --plan prints and --programme writes. */
std::vector<ganvoice::Chunk>
make_plan (App *app, const std::vector<ganvoice::Cue> &cues,
    ganvoice::ChunkPlanOptions *options, gint64 *frames)
{
  std::vector<ganvoice::ChunkCue> times;
  for (const auto &c : cues)
    times.push_back ({ c.start_ns, c.end_ns });
  options->rate = kMixRate;
  options->target_s = app->opt.chunk_target;
  options->grid = kChunkGrid;
  *frames = (gint64) gst_util_uint64_scale_round (
      app->duration, kMixRate, GST_SECOND);
  return ganvoice::plan_chunks (times, *frames, *options);
}

/* DIR/programme-K.wav's name in DIR. */
std::string
programme_name (size_t k)
{
  return "programme-" + std::to_string (k) + ".wav";
}

/* The plan as JSON; with @programme, each chunk names its programme
 * file. */
std::string
plan_json (App *app, const std::vector<ganvoice::Chunk> &plan,
    const ganvoice::ChunkPlanOptions &options, gint64 frames, size_t cues,
    bool programme)
{
  std::string out = "{\"input\": " + json_string (app->opt.input.c_str ()) +
      ", \"subtitles\": " + json_string (app->opt.subtitles.c_str ()) +
      ", \"rate\": " + std::to_string (kMixRate) +
      ", \"frames\": " + std::to_string (frames) +
      ", \"duration\": " + json_number (app->duration / (double) GST_SECOND) +
      ", \"target\": " + json_number (options.target_s) +
      ", \"lead\": " + json_number (options.lead_s) +
      ", \"clearance\": " + json_number (options.clearance_s) +
      ", \"grid\": " + std::to_string (options.grid) +
      ", \"cues\": " + std::to_string (cues) + ", \"chunks\": [";
  for (size_t k = 0; k < plan.size (); k++) {
    const ganvoice::Chunk &c = plan[k];
    bool last = k + 1 == plan.size ();
    std::string range = std::to_string (c.start) + ":" +
        (last ? std::string ("end") : std::to_string (c.end));
    out += std::string (k ? ", " : "") + "{\"index\": " + std::to_string (k) +
        ", \"start\": " + std::to_string (c.start) +
        ", \"end\": " + std::to_string (c.end) +
        ", \"last\": " + (last ? "true" : "false") +
        ", \"range\": " + json_string (range.c_str ()) +
        ", \"start_time\": " + json_number (c.start / (double) kMixRate) +
        ", \"end_time\": " + json_number (c.end / (double) kMixRate) +
        ", \"cues\": " + std::to_string (c.cues.size ());
    if (programme)
      out += ", \"programme\": " + json_string (programme_name (k).c_str ());
    out += "}";
  }
  out += "]}\n";
  return out;
}

} // namespace

bool
print_plan (App *app, const std::vector<ganvoice::Cue> &cues)
{
  ganvoice::ChunkPlanOptions options;
  gint64 frames = 0;
  std::vector<ganvoice::Chunk> plan = make_plan (app, cues, &options, &frames);
  std::string out = plan_json (app, plan, options, frames, cues.size (), false);
  fputs (out.c_str (), stdout);
  fflush (stdout);
  return true;
}

/* ---- --chunk -------------------------------------------------------- */

struct ChunkRender {
  FILE *file = nullptr;
  gint64 start = 0;
  gint64 end = -1; /* -1: to the dub's end */
  std::atomic<int> channels{ 0 };
  std::atomic<gint64> dub_end{ 0 }; /* frames of the dub seen so far */
  std::atomic<bool> done{ false };
  std::mutex lock; /* guards the rest */
  std::string write_error;
  gint64 first_voice = -1, last_voice = -1; /* non-zero voice frames */
  float voice_peak = 0.0f;
  ganvoice::DuckerConfig ducker; /* duckmix's, for the rest time */
  ~ChunkRender ()
  {
    if (file)
      fclose (file);
  }
};

namespace {

/* Cues (subcues' buffers) that start outside the range are not spoken:
 * the chunk before or after speaks them. */
GstPadProbeReturn
on_chunk_cue (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  ChunkRender *c = (ChunkRender *) user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  gint64 frame = ganvoice::frame_of ((gint64) GST_BUFFER_PTS (buf), kMixRate);
  bool inside = frame >= c->start && (c->end < 0 || frame < c->end);
  return inside ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Where the voice (48 kHz mono, into duckmix) is not zero, and its peak. */
GstPadProbeReturn
on_chunk_voice (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  ChunkRender *c = (ChunkRender *) user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) ||
      !GST_BUFFER_PTS_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  const float *x = (const float *) map.data;
  const size_t n = map.size / sizeof (float);
  gint64 at = (gint64) gst_util_uint64_scale_round (
      GST_BUFFER_PTS (buf), kMixRate, GST_SECOND);
  gint64 first = -1, last = -1;
  float peak = 0.0f;
  for (size_t i = 0; i < n; i++) {
    if (x[i] != 0.0f) {
      if (first < 0)
        first = at + (gint64) i;
      last = at + (gint64) i;
      peak = std::max (peak, std::fabs (x[i]));
    }
  }
  gst_buffer_unmap (buf, &map);
  if (first >= 0) {
    std::lock_guard<std::mutex> guard (c->lock);
    if (c->first_voice < 0)
      c->first_voice = first;
    c->last_voice = std::max (c->last_voice, last);
    c->voice_peak = std::max (c->voice_peak, peak);
  }
  return GST_PAD_PROBE_OK;
}

/* Where a buffer of duckmix's output lies: its first frame (duckmix's
 * offsets count the dub's frames from its start) and its length; *channels
 * is read from the pad's caps the first time. False when they say none. */
bool
mix_frames (GstPad *pad, GstBuffer *buf, std::atomic<int> *channels, gint64 *at,
    gint64 *frames)
{
  if (*channels == 0) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    GstAudioInfo ainfo;
    if (caps && gst_audio_info_from_caps (&ainfo, caps))
      *channels = GST_AUDIO_INFO_CHANNELS (&ainfo);
    if (caps)
      gst_caps_unref (caps);
  }
  const int n = *channels;
  if (n <= 0)
    return false;
  *at = GST_BUFFER_OFFSET_IS_VALID (buf)
      ? (gint64) GST_BUFFER_OFFSET (buf)
      : (gint64) gst_util_uint64_scale_round (
            GST_BUFFER_PTS (buf), kMixRate, GST_SECOND);
  *frames = (gint64) (gst_buffer_get_size (buf) / (sizeof (float) * n));
  return true;
}

/* The dub's frames in the range into the file; the range complete, the
 * bus hears of it and the rest is dropped. */
GstPadProbeReturn
on_chunk_output (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  ChunkRender *c = app->chunk.get ();
  if (c->done)
    return GST_PAD_PROBE_DROP;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 at, frames;
  if (!mix_frames (pad, buf, &c->channels, &at, &frames))
    return GST_PAD_PROBE_DROP;
  const int channels = c->channels;
  const gsize bpf = sizeof (float) * channels;
  gint64 from = std::max (at, c->start);
  gint64 to = c->end < 0 ? at + frames : std::min (at + frames, c->end);
  if (to > from) {
    GstMapInfo map;
    bool ok = gst_buffer_map (buf, &map, GST_MAP_READ);
    if (ok) {
      const guint8 *data = map.data + (from - at) * bpf;
      std::vector<guint8> zeros;
      if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
        zeros.assign ((to - from) * bpf, 0);
        data = zeros.data ();
      }
      ok = fwrite (data, bpf, to - from, c->file) == (size_t) (to - from);
      gst_buffer_unmap (buf, &map);
    }
    if (!ok) {
      std::lock_guard<std::mutex> guard (c->lock);
      if (c->write_error.empty ())
        c->write_error = g_strerror (errno);
      c->done = true;
    }
  }
  c->dub_end = std::max (c->dub_end.load (), at + frames);
  if (c->end >= 0 && at + frames >= c->end && !c->done) {
    c->done = true;
    gst_element_post_message (app->pipeline,
        gst_message_new_application (
            GST_OBJECT (app->pipeline), gst_structure_new_empty (kChunkDone)));
  }
  return GST_PAD_PROBE_DROP;
}

void
add_probe (GstElement *bin, const char *child, const char *pad_name,
    GstPadProbeCallback callback, gpointer data)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), child);
  if (!e)
    return;
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  if (pad) {
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, callback, data, NULL);
    gst_object_unref (pad);
  }
  gst_object_unref (e);
}

/* The WAV header of a chunk file of @frames frames. */
std::vector<guint8>
chunk_header (int channels, gint64 start, gint64 end, bool last)
{
  const guint64 data = (guint64) (end - start) * channels * sizeof (float);
  std::vector<guint8> h (kHeaderSize, 0);
  guint8 *p = h.data ();
  memcpy (p, "RIFF", 4);
  put32 (p + 4, (guint32) (kHeaderSize - 8 + data));
  memcpy (p + 8, "WAVE", 4);
  p += 12;
  memcpy (p, "fmt ", 4);
  put32 (p + 4, 16);
  put16 (p + 8, 3); /* WAVE_FORMAT_IEEE_FLOAT */
  put16 (p + 10, (guint16) channels);
  put32 (p + 12, kMixRate);
  put32 (p + 16, kMixRate * channels * 4);
  put16 (p + 20, (guint16) (channels * 4));
  put16 (p + 22, 32);
  p += 24;
  memcpy (p, "gvck", 4);
  put32 (p + 4, kInfoSize);
  std::string info = "start=" + std::to_string (start) +
      " end=" + std::to_string (end) + " last=" + (last ? "1" : "0");
  info.resize (kInfoSize, ' ');
  memcpy (p + 8, info.data (), kInfoSize);
  p += 8 + kInfoSize;
  memcpy (p, "data", 4);
  put32 (p + 4, (guint32) data);
  return h;
}

} // namespace

bool
start_chunk (App *app)
{
  auto c = std::make_shared<ChunkRender> ();
  c->start = app->opt.chunk_start;
  c->end = app->opt.chunk_end;
  const gint64 frames = (gint64) gst_util_uint64_scale_round (
      app->duration, kMixRate, GST_SECOND);
  if (c->start >= frames) {
    fail (app,
        "--chunk %lld:...: starts at or after the end of %s (%lld frames, "
        "%s)",
        (long long) c->start, app->opt.input.c_str (), (long long) frames,
        cue_time (app->duration).c_str ());
    return false;
  }
  if (c->end >= 0 &&
      (guint64) (c->end - c->start) * 8 * sizeof (float) > kMaxData) {
    fail (app,
        "--chunk: the range is too long for one WAV file; use "
        "chunks of minutes (--plan)");
    return false;
  }
  c->file = fopen (app->temp.c_str (), "wb");
  if (!c->file ||
      fwrite (std::vector<guint8> (kHeaderSize).data (), 1, kHeaderSize,
          c->file) != kHeaderSize) {
    fail (app, "%s: cannot write: %s", app->opt.output.c_str (),
        g_strerror (errno));
    if (c->file)
      fclose (c->file);
    return false;
  }
  app->chunk = c;
  /* The mix as duckmix has it (look-ahead, release, threshold). */
  GstElement *mix = gst_bin_get_by_name (GST_BIN (app->dub), "duckmix");
  if (mix) {
    double lookahead = 100.0, release = 300.0, threshold = -45.0;
    g_object_get (mix, "lookahead", &lookahead, "release", &release,
        "voice-threshold", &threshold, NULL);
    c->ducker.rate = kMixRate;
    c->ducker.lookahead_ms = lookahead;
    c->ducker.release_ms = release;
    c->ducker.voice_threshold_db = threshold;
    g_object_set (mix, "mastering", FALSE, NULL);
    gst_object_unref (mix);
  }
  add_probe (app->dub, "subcues", "src", on_chunk_cue, c.get ());
  add_probe (app->dub, "voice-caps", "src", on_chunk_voice, c.get ());
  GstPad *src = gst_element_get_static_pad (app->dub, "src");
  gst_pad_add_probe (
      src, GST_PAD_PROBE_TYPE_BUFFER, on_chunk_output, app, NULL);
  gst_object_unref (src);
  return true;
}

void
finish_chunk (App *app)
{
  stop_pipeline (app);
  ChunkRender *c = app->chunk.get ();
  if (!c || !c->file)
    return;
  const gint64 dub_end = c->dub_end.load ();
  const bool last = c->end < 0;
  const gint64 end = last ? dub_end : c->end;
  const gint64 lookahead =
      (gint64) std::llround (c->ducker.lookahead_ms * 1e-3 * kMixRate);
  std::string error = c->write_error;
  if (!error.empty ())
    error = app->opt.output + ": cannot write: " + error;
  else if (dub_end <= c->start)
    error = "the dub ends at frame " + std::to_string (dub_end) + " (" +
        seconds (dub_end) + "), before the chunk's start " +
        std::to_string (c->start);
  else if (!last && (!c->done || dub_end < c->end))
    error = "the dub ends at frame " + std::to_string (dub_end) + " (" +
        seconds (dub_end) + "), before the chunk's end " +
        std::to_string (c->end) + ": the last chunk's range is START:end";
  else if ((guint64) (end - c->start) * c->channels * sizeof (float) > kMaxData)
    error = "the range is too long for one WAV file (4 GiB): use chunks of "
            "minutes (--plan)";
  else if (c->start > 0 && c->first_voice >= 0 &&
      c->first_voice < c->start + lookahead)
    error = "speech at " + seconds (c->first_voice) + " (frame " +
        std::to_string (c->first_voice) +
        ") reaches back over the chunk's start " + std::to_string (c->start) +
        " through duckmix's look-ahead: cut at least " +
        std::to_string (lookahead) +
        " frames before a cue (--plan cuts 0.5 s before)";
  else if (!last && c->last_voice >= 0) {
    size_t rest = ganvoice::Ducker::frames_to_rest (c->ducker, c->voice_peak);
    if (c->last_voice + 1 + (gint64) rest > c->end) {
      gchar *s = g_strdup_printf (
          "the speech of this chunk's cues runs to %s (frame %lld); the "
          "ducker needs %.2f s of silence after it to be at rest at the cut "
          "(frame %lld, %s), or the next chunk would not match: cut later, "
          "in a longer gap (--plan), or use --overflow clip",
          seconds (c->last_voice + 1).c_str (), (long long) c->last_voice + 1,
          rest / (double) kMixRate, (long long) c->end,
          seconds (c->end).c_str ());
      error = s;
      g_free (s);
    }
  }
  int channels = c->channels;
  if (error.empty ()) {
    std::vector<guint8> h = chunk_header (channels, c->start, end, last);
    if (fseek (c->file, 0, SEEK_SET) != 0 ||
        fwrite (h.data (), 1, h.size (), c->file) != h.size () ||
        fflush (c->file) != 0 || fsync (fileno (c->file)) != 0)
      error = app->opt.output + ": cannot write: " + g_strerror (errno);
  }
  if (fclose (c->file) != 0 && error.empty ())
    error = app->opt.output + ": cannot write: " + g_strerror (errno);
  c->file = nullptr;
  if (error.empty () &&
      g_rename (app->temp.c_str (), app->opt.output.c_str ()) != 0)
    error = app->opt.output + ": cannot rename " + app->temp +
        " to it: " + g_strerror (errno);
  if (!error.empty ()) {
    fail (app, "%s; %s was not written", error.c_str (),
        app->opt.output.c_str ());
    remove_temp (app);
    return;
  }
  app->temp.clear ();
  clear_progress (app);
  double elapsed = (g_get_monotonic_time () - app->started_us) / 1e6;
  if (app->opt.json)
    json_line ("\"type\": \"done\", \"output\": " +
        json_string (app->opt.output.c_str ()) +
        ", \"elapsed\": " + json_number (elapsed) +
        ", \"cues\": " + std::to_string (app->cues_spoken) + ", \"start\": " +
        std::to_string (c->start) + ", \"end\": " + std::to_string (end) +
        ", \"last\": " + (last ? "true" : "false"));
  if (!app->opt.quiet)
    fprintf (stderr,
        "ganvoice-dub: wrote %s (frames %lld to %lld, %u cues spoken, "
        "%.1f s)\n",
        app->opt.output.c_str (), (long long) c->start, (long long) end,
        app->cues_spoken, elapsed);
}

/* ---- --assemble ----------------------------------------------------- */

struct ChunkFile {
  std::string path;
  gint64 start = 0, end = 0;
  bool last = false;
  int channels = 0;
  long data_at = 0; /* where the samples begin */
};

struct Assembly {
  std::vector<ChunkFile> files;
  int channels = 0;
  gint64 frames = 0; /* the whole dub */
  gint64 position = 0;
  size_t current = 0;
  FILE *file = nullptr;
  ganvoice::Mastering mastering;
  std::string error;
  ~Assembly ()
  {
    if (file)
      fclose (file);
  }
};

namespace {

/* Reads @path's header into @out; "" or what is wrong. */
std::string
read_chunk_header (const std::string &path, ChunkFile *out)
{
  FILE *f = fopen (path.c_str (), "rb");
  if (!f)
    return std::string ("cannot be read: ") + g_strerror (errno);
  guint8 riff[12];
  std::string error;
  bool fmt_ok = false, info_ok = false;
  if (fread (riff, 1, 12, f) != 12 || memcmp (riff, "RIFF", 4) != 0 ||
      memcmp (riff + 8, "WAVE", 4) != 0)
    error = "not a WAV file";
  while (error.empty ()) {
    guint8 head[8];
    if (fread (head, 1, 8, f) != 8) {
      error = "no data chunk";
      break;
    }
    guint32 size = get32 (head + 4);
    if (memcmp (head, "data", 4) == 0) {
      out->data_at = ftell (f);
      gint64 frames = out->channels > 0
          ? (gint64) (size / (sizeof (float) * out->channels))
          : 0;
      if (!fmt_ok || !info_ok)
        error = "not a ganvoice-dub chunk (no gvck chunk before the samples; "
                "made by ganvoice-dub --chunk?)";
      else if (frames != out->end - out->start ||
          (guint64) size != (guint64) frames * out->channels * 4)
        error = "holds " + std::to_string (frames) +
            " frames where its "
            "header says " +
            std::to_string (out->end - out->start);
      else {
        fseek (f, 0, SEEK_END);
        if (ftell (f) < out->data_at + (long) size)
          error = "is truncated";
      }
      break;
    }
    std::vector<guint8> body (size + (size & 1));
    if (size > (1 << 20) ||
        fread (body.data (), 1, body.size (), f) != body.size ()) {
      error = "is truncated";
      break;
    }
    if (memcmp (head, "fmt ", 4) == 0 && size >= 16) {
      fmt_ok = get16 (body.data ()) == 3 &&
          get32 (body.data () + 4) == (guint32) kMixRate &&
          get16 (body.data () + 14) == 32;
      out->channels = get16 (body.data () + 2);
      if (!fmt_ok || out->channels < 1 || out->channels > 8)
        error = "not 32-bit float at 48 kHz with 1 to 8 channels";
    } else if (memcmp (head, "gvck", 4) == 0) {
      std::string text ((const char *) body.data (), size);
      long long s = 0, e = 0;
      int last = 0;
      info_ok = sscanf (text.c_str (), "start=%lld end=%lld last=%d", &s, &e,
                    &last) == 3 &&
          s >= 0 && e > s;
      out->start = s;
      out->end = e;
      out->last = last != 0;
      if (!info_ok)
        error = "its gvck chunk is unreadable";
    }
  }
  fclose (f);
  return error;
}

} // namespace

bool
open_chunks (App *app)
{
  auto a = std::make_shared<Assembly> ();
  for (const std::string &path : app->opt.chunks) {
    ChunkFile c;
    c.path = path;
    std::string error = read_chunk_header (path, &c);
    if (!error.empty ()) {
      fail (app, "%s: %s", path.c_str (), error.c_str ());
      return false;
    }
    a->files.push_back (c);
  }
  std::stable_sort (a->files.begin (), a->files.end (),
      [] (const ChunkFile &x, const ChunkFile &y) {
        return x.start < y.start;
      });
  gint64 at = 0;
  for (size_t i = 0; i < a->files.size (); i++) {
    const ChunkFile &c = a->files[i];
    const bool last = i + 1 == a->files.size ();
    std::string error;
    if (c.channels != a->files[0].channels)
      error = "has " + std::to_string (c.channels) + " channels, " +
          a->files[0].path + " " + std::to_string (a->files[0].channels);
    else if (c.start > at)
      error = "starts at frame " + std::to_string (c.start) + ": frames " +
          std::to_string (at) + " to " + std::to_string (c.start) +
          " are missing (no chunk holds them)";
    else if (c.start < at)
      error = "starts at frame " + std::to_string (c.start) +
          ", inside the chunk before it (which ends at " + std::to_string (at) +
          ")";
    else if (last && !c.last)
      error = "ends at frame " + std::to_string (c.end) +
          " but is not the last chunk (rendered with END, not 'end'): the "
          "chunks after it are missing";
    else if (!last && c.last)
      error = "is the last chunk (to the dub's end) but others follow it";
    if (!error.empty ()) {
      fail (app, "--assemble: %s %s", c.path.c_str (), error.c_str ());
      return false;
    }
    at = c.end;
  }
  a->channels = a->files[0].channels;
  a->frames = at;
  /* As duckmix masters a dub in one go: --loudness, and its default limit
   * (-1 dBFS; ganvoice-dub does not change it). */
  a->mastering.configure (
      kMixRate, a->channels, app->opt.loudness_target, -1.0);
  app->assembly = a;
  return true;
}

namespace {

/* Frames [at, at + n) of the mix: times and offsets as duckmix counts. */
void
stamp_block (GstBuffer *buf, gint64 at, gint64 n)
{
  GstClockTime pts = gst_util_uint64_scale_int (at, GST_SECOND, kMixRate);
  GstClockTime end = gst_util_uint64_scale_int (at + n, GST_SECOND, kMixRate);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = end - pts;
  GST_BUFFER_OFFSET (buf) = at;
  GST_BUFFER_OFFSET_END (buf) = at + n;
}

/* An appsrc in the pipeline giving the mix's format (F32, 48 kHz,
 * @channels in the usual layout for the count: chunk files keep no
 * channel mask) in blocks that @need_data pushes. */
GstElement *
make_mix_appsrc (App *app, const char *name, int channels,
    void (*need_data) (GstAppSrc *, guint, gpointer))
{
  GstElement *src = gst_element_factory_make ("appsrc", name);
  if (!src) {
    fail (app, "the GStreamer element 'appsrc' is missing");
    return NULL;
  }
  gst_bin_add (GST_BIN (app->pipeline), src);
  GstAudioChannelPosition positions[8];
  gst_audio_channel_positions_from_mask (
      channels, gst_audio_channel_get_fallback_mask (channels), positions);
  GstAudioInfo info;
  gst_audio_info_set_format (
      &info, GST_AUDIO_FORMAT_F32LE, kMixRate, channels, positions);
  GstCaps *caps = gst_audio_info_to_caps (&info);
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
      (guint64) kBlock * channels * sizeof (float) * 4, NULL);
  gst_caps_unref (caps);
  GstAppSrcCallbacks callbacks = {};
  callbacks.need_data = need_data;
  gst_app_src_set_callbacks (GST_APP_SRC (src), &callbacks, app, NULL);
  return src;
}

/* Fills @out with up to @frames frames from the chunks in order. */
gint64
read_frames (Assembly *a, float *out, gint64 frames)
{
  gint64 done = 0;
  while (done < frames && a->current < a->files.size ()) {
    const ChunkFile &c = a->files[a->current];
    if (!a->file) {
      a->file = fopen (c.path.c_str (), "rb");
      if (!a->file || fseek (a->file, c.data_at, SEEK_SET) != 0) {
        a->error = c.path + ": cannot be read: " + g_strerror (errno);
        return -1;
      }
    }
    gint64 left = c.end - a->position;
    gint64 n = std::min (left, frames - done);
    if (n > 0 &&
        fread (out + done * a->channels, sizeof (float) * a->channels, n,
            a->file) != (size_t) n) {
      a->error = c.path + ": cannot be read (truncated?)";
      return -1;
    }
    done += n;
    a->position += n;
    if (a->position >= c.end) {
      fclose (a->file);
      a->file = nullptr;
      a->current++;
    }
  }
  return done;
}

void
on_need_data (GstAppSrc *src, guint, gpointer user_data)
{
  App *app = (App *) user_data;
  Assembly *a = app->assembly.get ();
  if (a->position >= a->frames) {
    gst_app_src_end_of_stream (src);
    return;
  }
  /* duckmix's blocks: 100 ms, on multiples of 100 ms. */
  gint64 n = std::min (kBlock - a->position % kBlock, a->frames - a->position);
  const gint64 at = a->position;
  GstBuffer *buf =
      gst_buffer_new_allocate (NULL, n * a->channels * sizeof (float), NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  float *x = (float *) map.data;
  gint64 got = read_frames (a, x, n);
  if (got == n)
    a->mastering.process (x, n);
  bool silent =
      std::all_of (x, x + n * a->channels, [] (float s) { return s == 0.0f; });
  gst_buffer_unmap (buf, &map);
  if (got != n) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (src, RESOURCE, READ, ("%s", a->error.c_str ()), (NULL));
    return;
  }
  stamp_block (buf, at, n);
  if (silent)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  gst_app_src_push_buffer (src, buf);
}

} // namespace

GstElement *
make_assembled_source (App *app)
{
  return make_mix_appsrc (
      app, "assembled", app->assembly->channels, on_need_data);
}

/* ---- --programme ---------------------------------------------------- */

struct ProgrammeRender {
  struct File {
    std::string path, temp;
    FILE *file = nullptr;
    gint64 start = 0, end = 0; /* end: the plan's; the last runs on */
    bool last = false;
  };
  std::vector<File> files;
  std::string json; /* the plan, printed when all is written */
  std::atomic<int> channels{ 0 };
  /* The streaming thread's: the next frame, the file it goes to. */
  gint64 next = 0;
  size_t current = 0;
  std::atomic<bool> failed{ false };
  ~ProgrammeRender ()
  {
    for (File &f : files)
      if (f.file)
        fclose (f.file);
  }
};

namespace {

/* Stops the run with @message as its error (from a streaming thread). */
void
post_error (App *app, const std::string &message)
{
  GError *err = g_error_new_literal (
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, message.c_str ());
  gst_element_post_message (app->pipeline,
      gst_message_new_error (GST_OBJECT (app->pipeline), err, NULL));
  g_error_free (err);
}

/* The programme (duckmix bypassed: as it is staged for the mix, at the
 * mix's positions) into the file of each chunk. */
GstPadProbeReturn
on_programme_output (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  ProgrammeRender *p = app->programme.get ();
  if (p->failed)
    return GST_PAD_PROBE_DROP;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 at, frames;
  if (!mix_frames (pad, buf, &p->channels, &at, &frames))
    return GST_PAD_PROBE_DROP;
  const int channels = p->channels;
  const gsize bpf = sizeof (float) * channels;
  if (at != p->next) {
    p->failed = true;
    post_error (app,
        "the programme jumps from frame " + std::to_string (p->next) + " to " +
            std::to_string (at) + " at the mix");
    return GST_PAD_PROBE_DROP;
  }
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_DROP;
  std::vector<guint8> zeros;
  const guint8 *data = map.data;
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    zeros.assign (frames * bpf, 0);
    data = zeros.data ();
  }
  gint64 done = 0;
  std::string error;
  while (done < frames && p->current < p->files.size ()) {
    ProgrammeRender::File &f = p->files[p->current];
    gint64 n =
        f.last ? frames - done : std::min (frames - done, f.end - p->next);
    if ((guint64) (p->next + n - f.start) * bpf > kMaxData) {
      error = f.path +
          ": the chunk is too long for one WAV file (4 GiB): "
          "use a shorter --chunk-target";
      break;
    }
    if (fwrite (data + done * bpf, bpf, n, f.file) != (size_t) n) {
      error = f.path + ": cannot write: " + g_strerror (errno);
      break;
    }
    done += n;
    p->next += n;
    if (!f.last && p->next >= f.end)
      p->current++;
  }
  gst_buffer_unmap (buf, &map);
  if (!error.empty ()) {
    p->failed = true;
    post_error (app, error);
  }
  return GST_PAD_PROBE_DROP;
}

} // namespace

bool
start_programme (App *app, const std::vector<ganvoice::Cue> &cues)
{
  auto p = std::make_shared<ProgrammeRender> ();
  ganvoice::ChunkPlanOptions options;
  gint64 frames = 0;
  std::vector<ganvoice::Chunk> plan = make_plan (app, cues, &options, &frames);
  if (plan.empty ()) {
    fail (app, "%s: no programme to cut (0 frames)", app->opt.input.c_str ());
    return false;
  }
  p->json = plan_json (app, plan, options, frames, cues.size (), true);
  const std::string &dir = app->opt.programme_dir;
  if (g_mkdir_with_parents (dir.c_str (), 0777) != 0) {
    fail (app, "--programme %s: cannot make the directory: %s", dir.c_str (),
        g_strerror (errno));
    return false;
  }
  /* Every file's temporary first: an unwritable directory fails here. */
  for (size_t k = 0; k < plan.size (); k++) {
    ProgrammeRender::File f;
    gchar *path =
        g_build_filename (dir.c_str (), programme_name (k).c_str (), NULL);
    f.path = path;
    g_free (path);
    f.start = plan[k].start;
    f.end = plan[k].end;
    f.last = k + 1 == plan.size ();
    if (!f.last &&
        (guint64) (f.end - f.start) * 8 * sizeof (float) > kMaxData) {
      fail (app,
          "--programme: chunk %zu is too long for one WAV file; use a "
          "shorter --chunk-target",
          k);
      return false;
    }
    std::string templ = f.path + ".partXXXXXX";
    std::vector<char> buf (templ.begin (), templ.end ());
    buf.push_back ('\0');
    int fd = g_mkstemp (buf.data ());
    if (fd >= 0) {
      f.temp = buf.data ();
      app->temps.push_back (f.temp);
      mode_t mask = umask (0);
      umask (mask);
      fchmod (fd, 0666 & ~mask);
      f.file = fdopen (fd, "wb");
      if (!f.file)
        close (fd);
    }
    bool ok = f.file &&
        fwrite (std::vector<guint8> (kHeaderSize).data (), 1, kHeaderSize,
            f.file) == kHeaderSize;
    p->files.push_back (f);
    if (!ok) {
      fail (app, "%s: cannot write: %s", f.path.c_str (), g_strerror (errno));
      return false;
    }
  }
  app->programme = p;
  /* duckmix passes the programme through as it stages it for the mix. */
  GstElement *mix = gst_bin_get_by_name (GST_BIN (app->dub), "duckmix");
  if (!mix) {
    fail (app, "dubbin has no duckmix");
    return false;
  }
  g_object_set (mix, "bypass", TRUE, "mastering", FALSE, NULL);
  gst_object_unref (mix);
  GstPad *src = gst_element_get_static_pad (app->dub, "src");
  gst_pad_add_probe (
      src, GST_PAD_PROBE_TYPE_BUFFER, on_programme_output, app, NULL);
  gst_object_unref (src);
  return true;
}

void
finish_programme (App *app)
{
  stop_pipeline (app);
  ProgrammeRender *p = app->programme.get ();
  if (!p)
    return;
  const int channels = p->channels;
  const gint64 dub_end = p->next;
  const ProgrammeRender::File &last = p->files.back ();
  std::string error;
  if (p->failed)
    error = "the programme could not be written";
  else if (channels <= 0 || dub_end <= last.start)
    error = "the programme ends at frame " + std::to_string (dub_end) + " (" +
        seconds (dub_end) + "), before the last chunk's start " +
        std::to_string (last.start);
  else if ((guint64) (dub_end - last.start) * channels * sizeof (float) >
      kMaxData)
    error = last.path +
        ": the chunk is too long for one WAV file (4 GiB): use a "
        "shorter --chunk-target";
  for (ProgrammeRender::File &f : p->files) {
    if (!error.empty ())
      break;
    const gint64 end = f.last ? dub_end : f.end;
    std::vector<guint8> h = chunk_header (channels, f.start, end, f.last);
    if (fseek (f.file, 0, SEEK_SET) != 0 ||
        fwrite (h.data (), 1, h.size (), f.file) != h.size () ||
        fflush (f.file) != 0 || fsync (fileno (f.file)) != 0)
      error = f.path + ": cannot write: " + g_strerror (errno);
  }
  for (ProgrammeRender::File &f : p->files) {
    if (f.file && fclose (f.file) != 0 && error.empty ())
      error = f.path + ": cannot write: " + g_strerror (errno);
    f.file = nullptr;
  }
  for (const ProgrammeRender::File &f : p->files) {
    if (!error.empty ())
      break;
    if (g_rename (f.temp.c_str (), f.path.c_str ()) != 0)
      error = f.path + ": cannot rename " + f.temp +
          " to it: " + g_strerror (errno);
  }
  if (!error.empty ()) {
    fail (app, "%s; the programme files were not written", error.c_str ());
    /* Those renamed already go too: all or none. */
    for (const ProgrammeRender::File &f : p->files)
      if (!g_file_test (f.temp.c_str (), G_FILE_TEST_EXISTS))
        g_unlink (f.path.c_str ());
    remove_temp (app);
    return;
  }
  app->temps.clear ();
  clear_progress (app);
  fputs (p->json.c_str (), stdout);
  fflush (stdout);
  if (!app->opt.quiet)
    fprintf (stderr,
        "ganvoice-dub: wrote %zu programme files to %s (frames 0 to %lld, "
        "%.1f s)\n",
        p->files.size (), app->opt.programme_dir.c_str (), (long long) dub_end,
        (g_get_monotonic_time () - app->started_us) / 1e6);
}

/* ---- --chunk from a programme file ---------------------------------- */

struct ProgrammeInput {
  ChunkFile file;
  FILE *in = nullptr;
  gint64 position = 0; /* the next frame to push */
  ~ProgrammeInput ()
  {
    if (in)
      fclose (in);
  }
};

int
open_programme_input (App *app)
{
  const std::string &path = app->opt.input;
  {
    /* A RIFF WAVE file with a gvck chunk; anything else is a film. */
    FILE *f = fopen (path.c_str (), "rb");
    if (!f)
      return 0; /* the probe says what is wrong */
    std::vector<guint8> head (4096);
    size_t n = fread (head.data (), 1, head.size (), f);
    fclose (f);
    bool riff = n >= 12 && memcmp (head.data (), "RIFF", 4) == 0 &&
        memcmp (head.data () + 8, "WAVE", 4) == 0;
    bool gvck = false;
    for (size_t at = 12; riff && !gvck && at + 8 <= n;) {
      gvck = memcmp (head.data () + at, "gvck", 4) == 0;
      at += 8 + get32 (head.data () + at + 4);
      at += at & 1;
    }
    if (!gvck)
      return 0;
  }
  auto in = std::make_shared<ProgrammeInput> ();
  in->file.path = path;
  std::string error = read_chunk_header (path, &in->file);
  if (!error.empty ()) {
    fail (app, "%s: %s", path.c_str (), error.c_str ());
    return -1;
  }
  const ChunkFile &c = in->file;
  const gint64 start = app->opt.chunk_start, end = app->opt.chunk_end;
  std::string range = std::to_string (start) + ":" +
      (end < 0 ? std::string ("end") : std::to_string (end));
  std::string held = std::to_string (c.start) + ":" +
      (c.last ? std::string ("end") : std::to_string (c.end));
  if (c.start != start || (end < 0 ? !c.last : c.end != end)) {
    fail (app,
        "%s: holds the programme of frames %lld to %lld%s, the chunk "
        "--chunk %s, not --chunk %s: give each chunk its own programme file "
        "(--programme)",
        path.c_str (), (long long) c.start, (long long) c.end,
        c.last ? " (to the end)" : "", held.c_str (), range.c_str ());
    return -1;
  }
  if (c.start % kChunkGrid != 0) {
    fail (app,
        "%s: starts at frame %lld, which is not a multiple of %d (20 ms): "
        "a chunk from a programme file starts on that grid (--programme "
        "cuts there)",
        path.c_str (), (long long) c.start, kChunkGrid);
    return -1;
  }
  in->in = fopen (path.c_str (), "rb");
  if (!in->in || fseek (in->in, c.data_at, SEEK_SET) != 0) {
    fail (app, "%s: cannot be read: %s", path.c_str (), g_strerror (errno));
    return -1;
  }
  in->position = c.start;
  app->programme_input = in;
  /* The film as far as this file goes: the end of its range. */
  app->duration = gst_util_uint64_scale_int (c.end, GST_SECOND, kMixRate);
  return 1;
}

bool
programme_input_is_last (App *app)
{
  return app->programme_input && app->programme_input->file.last;
}

namespace {

void
on_programme_need_data (GstAppSrc *src, guint, gpointer user_data)
{
  App *app = (App *) user_data;
  ProgrammeInput *in = app->programme_input.get ();
  const ChunkFile &c = in->file;
  if (in->position >= c.end) {
    gst_app_src_end_of_stream (src);
    return;
  }
  const gint64 at = in->position;
  const gint64 n = std::min (kBlock, c.end - at);
  GstBuffer *buf =
      gst_buffer_new_allocate (NULL, n * c.channels * sizeof (float), NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  bool ok =
      fread (map.data, sizeof (float) * c.channels, n, in->in) == (size_t) n;
  gst_buffer_unmap (buf, &map);
  if (!ok) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (src, RESOURCE, READ,
        ("%s: cannot be read (truncated?)", c.path.c_str ()), (NULL));
    return;
  }
  stamp_block (buf, at, n);
  if (at == c.start)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  in->position = at + n;
  gst_app_src_push_buffer (src, buf);
}

/* The voice from START on: subcues' segment starts there, with running
 * time = buffer time as from the film's start, so ganvoice's output (and
 * the resampler after it) starts at START instead of the film's start. */
GstPadProbeReturn
on_voice_segment (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  const GstSegment *segment;
  gst_event_parse_segment (event, &segment);
  if (segment->format != GST_FORMAT_TIME)
    return GST_PAD_PROBE_OK;
  const GstClockTime start = gst_util_uint64_scale_int (
      app->programme_input->file.start, GST_SECOND, kMixRate);
  GstSegment moved = *segment;
  moved.start = start;
  moved.time = start;
  moved.position = start;
  moved.base = start;
  GstEvent *replaced = gst_event_new_segment (&moved);
  gst_event_set_seqnum (replaced, gst_event_get_seqnum (event));
  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = replaced;
  return GST_PAD_PROBE_OK;
}

/* START must fall on a whole sample of the voice's rate (the model's):
 * otherwise its resampler would not start in phase with a render from the
 * film's start. 960 frames are whole at 8, 16, 22.05, 24, 44.1 kHz... */
GstPadProbeReturn
on_voice_caps (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  gint rate = 0;
  const gint64 start = app->programme_input->file.start;
  if (gst_structure_get_int (gst_caps_get_structure (caps, 0), "rate", &rate) &&
      rate > 0 && (start * rate) % kMixRate != 0)
    post_error (app,
        "the voice runs at " + std::to_string (rate) + " Hz, where frame " +
            std::to_string (start) +
            " (the chunk's start) falls between two samples: a chunk from "
            "a programme file cannot match the film's render there; render "
            "it from the film");
  return GST_PAD_PROBE_OK;
}

} // namespace

GstElement *
make_programme_source (App *app)
{
  return make_mix_appsrc (app, "programme-file",
      app->programme_input->file.channels, on_programme_need_data);
}

bool
start_programme_chunk (App *app)
{
  const GstClockTime start = gst_util_uint64_scale_int (
      app->programme_input->file.start, GST_SECOND, kMixRate);
  /* The mix starts at START: its first offset is START's frame. */
  GstElement *mix = gst_bin_get_by_name (GST_BIN (app->dub), "duckmix");
  if (!mix) {
    fail (app, "dubbin has no duckmix");
    return false;
  }
  gst_util_set_object_arg (G_OBJECT (mix), "start-time-selection", "set");
  g_object_set (mix, "start-time", (guint64) start, NULL);
  gst_object_unref (mix);
  GstElement *cues = gst_bin_get_by_name (GST_BIN (app->dub), "subcues");
  if (!cues) {
    fail (app, "dubbin has no subcues");
    return false;
  }
  GstPad *pad = gst_element_get_static_pad (cues, "src");
  gst_pad_add_probe (
      pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_voice_segment, app, NULL);
  gst_object_unref (pad);
  gst_object_unref (cues);
  GstElement *voice = gst_bin_get_by_name (GST_BIN (app->dub), "ganvoice");
  if (voice) {
    pad = gst_element_get_static_pad (voice, "src");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_voice_caps, app, NULL);
    gst_object_unref (pad);
    gst_object_unref (voice);
  }
  return true;
}

} // namespace dub
