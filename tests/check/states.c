/* Takes every ganvoice element NULL -> READY -> PAUSED -> PLAYING and back,
 * on its own with no links, as GStreamer's generic/states test does.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>

static GList *
ganvoice_factories (void)
{
  GList *features =
      gst_registry_get_feature_list_by_plugin (gst_registry_get (), "ganvoice");
  GList *factories = NULL, *l;

  for (l = features; l; l = l->next)
    if (GST_IS_ELEMENT_FACTORY (l->data))
      factories = g_list_prepend (factories, gst_object_ref (l->data));
  gst_plugin_feature_list_free (features);
  return factories;
}

GST_START_TEST (test_state_changes_up_and_down_seq)
{
  static const GstState steps[] = { GST_STATE_READY, GST_STATE_PAUSED,
    GST_STATE_PLAYING, GST_STATE_PAUSED, GST_STATE_READY, GST_STATE_NULL,
    GST_STATE_PLAYING, GST_STATE_NULL };
  GList *factories = ganvoice_factories (), *l;

  fail_unless (factories != NULL, "the ganvoice plugin has no elements");
  for (l = factories; l; l = l->next) {
    GstElementFactory *factory = l->data;
    GstElement *element = gst_element_factory_create (factory, NULL);
    guint i;

    fail_unless (element != NULL, "%s", GST_OBJECT_NAME (factory));
    GST_INFO ("testing %s", GST_OBJECT_NAME (factory));
    for (i = 0; i < G_N_ELEMENTS (steps); i++) {
      GstStateChangeReturn ret = gst_element_set_state (element, steps[i]);
      fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s to %s failed",
          GST_OBJECT_NAME (factory), gst_element_state_get_name (steps[i]));
      if (ret == GST_STATE_CHANGE_ASYNC)
        fail_if (gst_element_get_state (element, NULL, NULL, 5 * GST_SECOND) ==
            GST_STATE_CHANGE_FAILURE);
    }
    gst_object_unref (element);
  }
  g_list_free_full (factories, gst_object_unref);
}
GST_END_TEST;

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_state_changes_up_and_down_seq);
  return s;
}

GST_CHECK_MAIN (states);
