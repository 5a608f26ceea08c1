# lib.sh - what the CLI test scripts share (sourced): a scratch directory that is the working
# directory and is removed at exit, pydicom's sample files ($P), the ok/fail counters, expect,
# a configuration with its own key ring and audit log (write_cli_config), cm (chaosmask with
# that configuration) and finish (the summary line and the exit status).
set -u
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
P=/usr/lib/python3/dist-packages/pydicom/data/test_files
fails=0
ok() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; fails=$((fails + 1)); }
# expect CODE WHAT -- COMMAND...: the command's exit code is CODE (stdout in out, stderr in err)
expect() {
  local want=$1 what=$2; shift 3
  "$@" >"$WORK/out" 2>"$WORK/err"; local got=$?
  [ "$got" -eq "$want" ] && ok "$what (exit $got)" || fail "$what: exit $got, expected $want; stderr: $(head -c 300 "$WORK/err")"
}
# write_cli_config [LINES]: cm.ini (0600) with the key ring in ring/, the audit log, and LINES
write_cli_config() {
  printf '[keyring]\ndir = %s/ring\n[log]\naudit = %s/audit.log\n%b' "$WORK" "$WORK" "${1:-}" >"$WORK/cm.ini"
  chmod 600 "$WORK/cm.ini"
}
cm() { "$CM" --config "$WORK/cm.ini" "$@"; }
finish() {
  echo "$fails failed"
  [ "$fails" -eq 0 ]
}
