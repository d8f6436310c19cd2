/* ganvoice: the cue meta, carried by every buffer that subcues outputs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

G_BEGIN_DECLS

/**
 * GanvoiceCueMeta:
 * @meta: parent #GstMeta
 * @index: 0-based index of the spoken cue in presentation order. Split
 *   dialogue turns each get their own index.
 * @source_line: 1-based line of the subtitle file where the cue starts, or 0
 *   when unknown (for example cues received as text/x-raw).
 * @turn: 0-based dialogue turn within the source cue, when a cue with
 *   dialogue dashes or several WebVTT voices was split.
 * @n_turns: number of turns the source cue was split into (1 when not split).
 * @speaker: (nullable): who speaks, from an ASS Name/Actor field, a WebVTT
 *   `<v Name>` span or a `NAME:` prefix.
 * @style: (nullable): the ASS style name or WebVTT class, if any.
 * @language: (nullable): ISO 639 language code, from the subcues `language`
 *   property, the file header or an upstream tag.
 * @markup: (nullable): the cue's original text with its markup, before clean-up.
 *
 * Describes one spoken cue. The buffer itself holds the cleaned, speakable
 * UTF-8 text; its PTS is the cue start and its duration the cue length.
 */
typedef struct {
  GstMeta meta;

  guint index;
  guint source_line;
  guint turn;
  guint n_turns;
  gchar *speaker;
  gchar *style;
  gchar *language;
  gchar *markup;
} GanvoiceCueMeta;

GANVOICE_API GType ganvoice_cue_meta_api_get_type (void);
#define GANVOICE_CUE_META_API_TYPE (ganvoice_cue_meta_api_get_type ())

GANVOICE_API const GstMetaInfo *ganvoice_cue_meta_get_info (void);
#define GANVOICE_CUE_META_INFO (ganvoice_cue_meta_get_info ())

/**
 * gst_buffer_get_ganvoice_cue_meta:
 * @b: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the #GanvoiceCueMeta on @b.
 */
#define gst_buffer_get_ganvoice_cue_meta(b) \
  ((GanvoiceCueMeta *) gst_buffer_get_meta ((b), GANVOICE_CUE_META_API_TYPE))

/**
 * gst_buffer_add_ganvoice_cue_meta:
 * @buffer: a writable #GstBuffer
 * @index: spoken cue index
 * @speaker: (nullable): speaker name
 * @style: (nullable): style name
 * @language: (nullable): language code
 * @markup: (nullable): original markup
 *
 * Adds a cue meta to @buffer. The strings are copied. @source_line, @turn
 * and @n_turns start as 0, 0 and 1; set them on the returned meta.
 *
 * Returns: (transfer none): the new meta.
 */
GANVOICE_API GanvoiceCueMeta *gst_buffer_add_ganvoice_cue_meta (
    GstBuffer *buffer, guint index, const gchar *speaker, const gchar *style,
    const gchar *language, const gchar *markup);

G_END_DECLS
