/* ganvoice-dub: the programme's pad probes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "programme.h"

#include "app.h"

namespace dub {

namespace {

/* The film's end as a buffer time of the programme: where its running
 * time (from 0 at the file's start, as the muxer counts) reaches the
 * film's duration. Timestamps in MPEG-TS start at 1.4 s, say. */
guint64
film_end_position (App *app)
{
  if (app->programme_segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  GstSegment open = app->programme_segment;
  open.stop = GST_CLOCK_TIME_NONE; /* the film may end after it */
  return gst_segment_position_from_running_time (
      &open, GST_FORMAT_TIME, app->duration);
}

} // namespace

/* A programme that ends before the film does (audio shorter than the
 * video) is continued with a GAP to the film's end, so that the dub covers
 * the whole film and cues there are spoken. */
GstPadProbeReturn
on_programme (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  GstClockTime end = GST_CLOCK_TIME_NONE;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    if (GST_BUFFER_PTS_IS_VALID (buf))
      end = GST_BUFFER_PTS (buf) +
          (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf) : 0);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
      GstClockTime ts, duration;
      gst_event_parse_gap (event, &ts, &duration);
      if (GST_CLOCK_TIME_IS_VALID (ts))
        end = ts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      app->programme_segment = *segment;
      /* A segment that stops at the audio's end (qtdemux's) would drop
       * that GAP: it stops at the film's end instead. */
      guint64 film_end = film_end_position (app);
      if (GST_CLOCK_TIME_IS_VALID (film_end) &&
          GST_CLOCK_TIME_IS_VALID (segment->stop) && segment->stop < film_end) {
        app->programme_segment.stop = film_end;
        GstEvent *replaced = gst_event_new_segment (&app->programme_segment);
        gst_event_set_seqnum (replaced, gst_event_get_seqnum (event));
        gst_event_unref (event);
        GST_PAD_PROBE_INFO_DATA (info) = replaced;
      }
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
      guint64 last = app->programme_end.load ();
      guint64 film_end = film_end_position (app);
      if (GST_CLOCK_TIME_IS_VALID (film_end) &&
          last + 20 * GST_MSECOND < film_end) {
        app->programme_padded_from = gst_segment_to_running_time (
            &app->programme_segment, GST_FORMAT_TIME, last);
        gst_pad_send_event (pad, gst_event_new_gap (last, film_end - last));
      }
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (end) && end > app->programme_end.load ())
    app->programme_end = end;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
on_silence_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_GAP);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

} // namespace dub
