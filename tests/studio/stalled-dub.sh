#!/bin/sh
# The real ganvoice-dub for the studio's stalled-render test: the tiny test
# models, a 2 s watchdog, and the decoder that stalls
# (tests/integration/stall-plugin) on GST_PLUGIN_PATH with a registry of its
# own. The studio passes the dub's usual arguments after these.
set -eu
export GST_PLUGIN_PATH_1_0="$GANVOICE_TEST_STALL_PLUGIN_DIR:${GST_PLUGIN_PATH_1_0:-}"
export GST_REGISTRY_1_0="$STALLED_DUB_REGISTRY"
models="$GANVOICE_SOURCE_DIR/tests/models"
exec "$GANVOICE_DUB_PATH" --stall-timeout 2 \
  --acoustic-model "$models/tiny-acoustic.ts" --vocoder-model "$models/tiny-vocoder.ts" "$@"
