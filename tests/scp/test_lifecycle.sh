#!/bin/bash
# test_lifecycle.sh SCP CM TESTS WORK - the service's life: the command line (--help,
# --version, bad options, configuration errors naming file and line, no active key, port in
# use); an idle association aborted after idle_timeout; a child killed by a signal, audited,
# the service going on; SIGTERM with an association running (new connections refused at once,
# the association finishes, exit 0) and with one that outlives shutdown_grace (stopped, exit 0).
SCP=$1 CM=$2 TESTS=$3 WORK=$4
. "$TESTS/lib.sh"
setup_work
PORT=$(free_port)

# ---- command line
check "--help lists the options and the exit codes" bash -c "'$SCP' --help | grep -q -- '--port N' && '$SCP' --help | grep -q 'exit codes'"
check "--version" bash -c "'$SCP' --version | grep -q '^chaosmask-scp '"
"$SCP" --bogus >bad.log 2>&1
check "an unknown option: exit 2" [ $? = 2 ]
"$SCP" --port 70000 >bad.log 2>&1
check "a bad port: exit 2" [ $? = 2 ]
printf '[scp]\nport = 104\nmax_pdu = 10\n' >bad.ini && chmod 600 bad.ini
"$SCP" --config bad.ini >bad.log 2>&1
check "a configuration error: exit 3, naming file and line" bash -c "[ $? = 3 ] && grep -q 'bad.ini:3: max_pdu' bad.log"
mkdir emptyring && chmod 700 emptyring
write_config noactive.ini "$PORT"
"$SCP" --config noactive.ini --keyring emptyring >noactive.log 2>&1
check "a key ring without an active key: exit 3 before listening" bash -c "[ $? = 3 ] && grep -q 'keygen' noactive.log"

SCP_EXTRA="idle_timeout = 2\nshutdown_grace = 3\n"
write_config scp.ini "$PORT"
start_service scp.ini || exit 1
"$SCP" --config scp.ini >inuse.log 2>&1
check "the port in use: exit 3" bash -c "[ $? = 3 ] && grep -q 'cannot listen' inuse.log"

# ---- idle association
$RAW hold 127.0.0.1 "$PORT" 3 >idle.log 2>&1
sleep 0.3
check "an idle association is aborted after idle_timeout" \
    audit_has association-end '"idle_timeout" in r["detail"] and r["outcome"] == "aborted"'

# ---- a child dies of a signal
$RAW hold 127.0.0.1 "$PORT" 10 >victim.log 2>&1 &
victim=$!
for _ in $(seq 50); do grep -q associated victim.log && break; sleep 0.1; done
child=$(pgrep -P "$SERVICE_PID" | head -1)
check "the association's process is a child of the service" [ -n "$child" ]
kill -SEGV "$child"
sleep 0.3
kill "$victim" # its peer is gone: no need to sleep on
wait "$victim"
sleep 0.3
check "a child killed by SIGSEGV is audited" audit_has child '"died of signal" in r["message"]'
check "and the service answers" echo_ok

# ---- SIGTERM: running associations finish, new ones are refused, exit 0
$RAW hold 127.0.0.1 "$PORT" 2 >running.log 2>&1 &
runner=$!
for _ in $(seq 50); do grep -q associated running.log && break; sleep 0.1; done
t0=$(date +%s.%N)
kill -TERM "$SERVICE_PID"
sleep 0.3
echoscu -aec CHAOSMASK 127.0.0.1 "$PORT" >after.log 2>&1
check "after SIGTERM new connections are refused" grep -q "Connection refused" after.log
wait "$runner"
check "the running association finished normally" grep -q "^released" running.log
wait "$SERVICE_PID"
rc=$?
t1=$(date +%s.%N)
SERVICE_PID=
check "exit status 0" [ "$rc" = 0 ]
check "stopped once the association ended ($(printf %.1f "$(echo "$t1 - $t0" | bc)") s, grace 3 s)" \
    [ "$(echo "$t1 - $t0 < 3" | bc)" = 1 ]
check "the association's end is audited as released" audit_has association-end 'r["detail"] == "released"'

start_service scp.ini || exit 1
SCP_EXTRA="idle_timeout = 60\nshutdown_grace = 2\n"
stop_service
write_config scp.ini "$PORT"
start_service scp.ini || exit 1
$RAW hold 127.0.0.1 "$PORT" 30 >long.log 2>&1 &
long=$!
for _ in $(seq 50); do grep -q associated long.log && break; sleep 0.1; done
t0=$(date +%s.%N)
kill -TERM "$SERVICE_PID"
wait "$SERVICE_PID"
rc=$?
t1=$(date +%s.%N)
SERVICE_PID=
kill "$long"
wait "$long"
check "an association outliving shutdown_grace is stopped: exit 0" [ "$rc" = 0 ]
check "... within grace + 2 s ($(printf %.1f "$(echo "$t1 - $t0" | bc)") s)" [ "$(echo "$t1 - $t0 < 4.5" | bc)" = 1 ]
check "... audited as stopped by the service" audit_has association-end '"service is stopping" in r["detail"]'
check "service records: started and stopped twice" [ "$(audit_count service '"stopped" in r["detail"]')" -ge 2 ]
finish
