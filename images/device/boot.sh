#!/bin/sh
# Power-on of one routing engine: bring up its software TPM (swtpm on the state volume, a
# private D-Bus session bus and the tpm2-abrmd resource manager), then start the device
# program. When that program exits the container stops; a reboot is an exit Docker restarts.
set -eu
STATE="${SZTP_LAB_STATE:-/var/lib/sztp-lab/state}"
mkdir -p "$STATE/tpm" /run/sztp-lab
# A TPM that has never run (no state file yet) has counted no failures: see the lockout below.
FRESH=0
[ -e "$STATE/tpm/tpm2-00.permall" ] || FRESH=1
swtpm socket --tpm2 --tpmstate dir="$STATE/tpm" \
  --server type=tcp,port=2321,bindaddr=127.0.0.1 --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 \
  --flags not-need-init,startup-clear -d
dbus-daemon --session --fork --nopidfile --print-address=3 3>/run/sztp-lab/dbus.addr
DBUS_SESSION_BUS_ADDRESS="$(cat /run/sztp-lab/dbus.addr)"
export DBUS_SESSION_BUS_ADDRESS
tpm2-abrmd --allow-root --session --tcti=swtpm:host=127.0.0.1,port=2321 >/run/sztp-lab/abrmd.log 2>&1 &
export TPM2TOOLS_TCTI=tabrmd:bus_type=session TPM2OPENSSL_TCTI=tabrmd:bus_type=session
i=0
until tpm2_getcap properties-fixed >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then echo "sztp-lab: the TPM stack did not come up" >&2; cat /run/sztp-lab/abrmd.log >&2; exit 1; fi
  sleep 0.05
done
# A power cut is an unorderly TPM shutdown, and the TPM counts those against its dictionary-
# attack lockout: after a few, the identity key would refuse to load. The lab's TPMs run with
# the lockout disabled (recovery time 0) and any earlier lockout cleared.
setup_lockout() {
  tpm2_dictionarylockout --setup-parameters --max-tries=32 --recovery-time=0 --lockout-recovery-time=0 >/dev/null 2>&1 || true
}
if [ "$FRESH" = 1 ]; then
  # A fresh TPM has counted nothing, so there is nothing to clear, and it holds no keys: its
  # set-up runs beside the device program's start, and the program is told not to look for
  # a primary key that cannot be there yet.
  setup_lockout &
  export SZTP_LAB_TPM_FRESH=1
else
  tpm2_dictionarylockout --clear-lockout >/dev/null 2>&1 || true
  setup_lockout
fi
if [ $# -eq 0 ] || [ "$1" = run ]; then
  if [ $# -gt 0 ]; then shift; fi
  # The lab may start an engine before its configuration is written (its TPM comes up
  # meanwhile); device.json is renamed into place last, so its presence means all is there.
  CONFIG=/etc/sztp-lab/device.json
  i=0
  until [ -e "$CONFIG" ]; do
    i=$((i + 1))
    if [ "$i" -gt 3000 ]; then echo "sztp-lab: no $CONFIG after 30 s" >&2; exit 1; fi
    sleep 0.01
  done
  # The lab passes its prebuilt bundle of the device program (see harness/src/runtime/
  # bundles.ts); without one, the same program runs from the sources through tsx.
  exec node "${SZTP_LAB_DEVICE_ENTRY:-/opt/sztp-lab/harness/bin/sztp-lab-device.js}" "$@"
fi
exec node /opt/sztp-lab/harness/bin/sztp-lab.js device "$@"
