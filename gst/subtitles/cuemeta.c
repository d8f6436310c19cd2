/* ganvoice: the cue meta.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ganvoice/cuemeta.h>

GType
ganvoice_cue_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType api = gst_meta_api_type_register ("GanvoiceCueMetaAPI", tags);
    g_once_init_leave (&type, api);
  }
  return type;
}

static gboolean
cue_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  GanvoiceCueMeta *cue = (GanvoiceCueMeta *) meta;

  cue->index = 0;
  cue->source_line = 0;
  cue->turn = 0;
  cue->n_turns = 1;
  cue->speaker = NULL;
  cue->style = NULL;
  cue->language = NULL;
  cue->markup = NULL;
  return TRUE;
}

static void
cue_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  GanvoiceCueMeta *cue = (GanvoiceCueMeta *) meta;

  g_free (cue->speaker);
  g_free (cue->style);
  g_free (cue->language);
  g_free (cue->markup);
}

static gboolean
cue_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer,
    GQuark type, gpointer data)
{
  GanvoiceCueMeta *src = (GanvoiceCueMeta *) meta;
  GanvoiceCueMeta *copy;

  /* The cue describes the whole buffer: copy it on copies and on subbuffers
   * alike, since a cut cue still belongs to the same speaker and text. */
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;

  copy = gst_buffer_add_ganvoice_cue_meta (
      dest, src->index, src->speaker, src->style, src->language, src->markup);
  if (copy == NULL)
    return FALSE;
  copy->source_line = src->source_line;
  copy->turn = src->turn;
  copy->n_turns = src->n_turns;
  return TRUE;
}

const GstMetaInfo *
ganvoice_cue_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) &info)) {
    const GstMetaInfo *registered = gst_meta_register (
        GANVOICE_CUE_META_API_TYPE, "GanvoiceCueMeta", sizeof (GanvoiceCueMeta),
        cue_meta_init, cue_meta_free, cue_meta_transform);
    g_once_init_leave ((GstMetaInfo **) &info, (GstMetaInfo *) registered);
  }
  return info;
}

GanvoiceCueMeta *
gst_buffer_add_ganvoice_cue_meta (GstBuffer *buffer, guint index,
    const gchar *speaker, const gchar *style, const gchar *language,
    const gchar *markup)
{
  GanvoiceCueMeta *cue;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (gst_buffer_is_writable (buffer), NULL);

  cue = (GanvoiceCueMeta *) gst_buffer_add_meta (
      buffer, GANVOICE_CUE_META_INFO, NULL);
  if (cue == NULL)
    return NULL;
  cue->index = index;
  cue->speaker = g_strdup (speaker);
  cue->style = g_strdup (style);
  cue->language = g_strdup (language);
  cue->markup = g_strdup (markup);
  return cue;
}
