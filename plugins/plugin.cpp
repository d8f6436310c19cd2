/* ganvoice: the plugin that registers every ganvoice element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstduckmix.h"
#include "gstganvoice.h"
#include "gstdubbin.h"
#include "gstsubcues.h"
#include "gstspeakerembed.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;

  ok |= GST_ELEMENT_REGISTER (subcues, plugin);
  ok |= GST_ELEMENT_REGISTER (duckmix, plugin);
  ok |= GST_ELEMENT_REGISTER (ganvoice, plugin);
  ok |= GST_ELEMENT_REGISTER (dubbin, plugin);
  ok |= GST_ELEMENT_REGISTER (speakerembed, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ganvoice,
    "Dub videos from their subtitles with neural voices", plugin_init, VERSION,
    GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
