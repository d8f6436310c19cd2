# Sourced by the example scripts: use the build tree's plugin when there is
# one (GANVOICE_BUILD_DIR, default build/), else the installed plugin.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${GANVOICE_BUILD_DIR:-$root/build}
if [ -d "$build/plugins" ]; then
  export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
# The shipped models, unless GANVOICE_MODEL_DIR says otherwise.
export GANVOICE_MODEL_DIR=${GANVOICE_MODEL_DIR:-$root/models}
