#!/bin/bash
# test_tls.sh SCP CM TESTS WORK TLS_CLIENT - a TLS-only service (certificates made at test
# time, make_certs.sh): echo, store and find over TLS with a client certificate (echoscu,
# storescu, findscu +tls); C-GET and C-MOVE over TLS (DcmTLSSCU: getscu/movescu 3.6.7 have no
# TLS); C-MOVE sub-associations over TLS to a storescp +tls, whose certificate must name the
# configured host; refused: a plain association, TLS without a client certificate, a client
# certificate from another CA, a certificate of the site CA that does not name the peer's host
# (tls = yes binds the certificate to the peer through its host); certificate_name instead of
# the host: a peer without host that may find (a workstation whose address changes) is let in
# only with a certificate that carries its name in a SAN entry (not a wildcard, a partial
# wildcard, or the common name), and a C-MOVE destination is accepted by it.
SCP=$1 CM=$2 TESTS=$3 WORK=$4 TLS_CLIENT=$5
. "$TESTS/lib.sh"
setup_work
mkdir certs && bash "$TESTS/make_certs.sh" "$WORK/certs" || exit 1
C=$WORK/certs
PORT=$(free_port) DEST=$(free_port) WRONG=$(free_port)
SCP_EXTRA="[tls]\nenabled = yes\ncertificate = $C/service.pem\nprivate_key = $C/service.key\nca = $C/ca.pem\n"
write_config scp.ini "$PORT" "
[peer VIEWER]\naetitle = VIEWER\nhost = 127.0.0.1\nstore = yes\nfind = yes\nretrieve = decrypted\ntls = yes
[peer TLSDEST]\naetitle = TLSDEST\nhost = 127.0.0.1\nport = $DEST\nretrieve = decrypted\ntls = yes
[peer WRONGNAME]\naetitle = WRONGNAME\nhost = 127.0.0.1\nport = $WRONG\nretrieve = decrypted\ntls = yes
[peer PLAINDEST]\naetitle = PLAINDEST\nhost = 127.0.0.1\nport = $WRONG\nretrieve = decrypted
[peer ROAMING]\naetitle = ROAMING\nfind = yes\nretrieve = decrypted\ntls = yes\ncertificate_name = ws-7.site.example
[peer NAMED]\naetitle = NAMED\nhost = 127.0.0.1\nport = $WRONG\nretrieve = decrypted\ntls = yes\ncertificate_name = other.example\n"
start_service scp.ini || exit 1
TLS=(+tls "$C/client.key" "$C/client.pem" +cf "$C/ca.pem")
$PY "$TESTS/make_study.py" study 4 --prefix ct >study.uid
STUDY=$(head -1 study.uid)

# ---- with a client certificate
check "echoscu over TLS" echoscu -aet VIEWER -aec CHAOSMASK "${TLS[@]}" 127.0.0.1 "$PORT"
check "association record: TLS and the client's certificate" \
    audit_has association 'r["tls"] is True and "CN=viewer" in r.get("tls_subject", "") and r["outcome"] == "ok"'
storescu -v -aet VIEWER -aec CHAOSMASK "${TLS[@]}" 127.0.0.1 "$PORT" study/*.dcm >store.log 2>&1
check "storescu over TLS: 4 stored" stores_ok store.log 4
mkdir find
findscu -S -X -od find -aet VIEWER -aec CHAOSMASK "${TLS[@]}" 127.0.0.1 "$PORT" -k QueryRetrieveLevel=IMAGE \
    -k StudyInstanceUID="$STUDY" -k SeriesInstanceUID="$(dump_value study/ct0000.dcm SeriesInstanceUID)" \
    -k SOPInstanceUID >/dev/null 2>&1
check "findscu over TLS: 4 matches" [ "$(ls find | wc -l)" = 4 ]
mkdir get
"$TLS_CLIENT" get 127.0.0.1 "$PORT" VIEWER CHAOSMASK "$C/client.key" "$C/client.pem" "$C/ca.pem" "$STUDY" get \
    1.2.840.10008.5.1.4.1.1.2 >get.log 2>&1
check "C-GET over TLS: completed" grep -q "status 0x0000 completed 4 failed 0" get.log
check "C-GET over TLS: the originals" $PY "$TESTS/compare.py" same-dir study get 4

# ---- C-MOVE over TLS to TLS destinations (the certificate must name the configured host)
mkdir dest wrong
spawn storescp -aet TLSDEST +xa -od dest +tls "$C/dest.key" "$C/dest.pem" +cf "$C/ca.pem" "$DEST"
spawn storescp -aet WRONGNAME +xa -od wrong +tls "$C/wrongname.key" "$C/wrongname.pem" +cf "$C/ca.pem" "$WRONG"
wait_port "$DEST" && wait_port "$WRONG"
"$TLS_CLIENT" move 127.0.0.1 "$PORT" VIEWER CHAOSMASK "$C/client.key" "$C/client.pem" "$C/ca.pem" "$STUDY" TLSDEST >move.log 2>&1
check "C-MOVE over TLS to a TLS destination: completed" grep -q "status 0x0000 completed 4 failed 0" move.log
check "C-MOVE over TLS: the originals arrived" $PY "$TESTS/compare.py" same-dir study dest 4
"$TLS_CLIENT" move 127.0.0.1 "$PORT" VIEWER CHAOSMASK "$C/client.key" "$C/client.pem" "$C/ca.pem" "$STUDY" WRONGNAME >wrong.log 2>&1
check "a destination whose certificate names another host: every sub-operation failed (0xA702)" \
    grep -q "status 0xA702 completed 0 failed 4" wrong.log
check "... and nothing reached it" [ "$(ls wrong | wc -l)" = 0 ]
check "... audited with the reason" audit_has retrieve 'r.get("destination") == "WRONGNAME" and r["outcome"] == "failed" and "C-MOVE destination" in r.get("message", "")'
"$TLS_CLIENT" move 127.0.0.1 "$PORT" VIEWER CHAOSMASK "$C/client.key" "$C/client.pem" "$C/ca.pem" "$STUDY" PLAINDEST >plaindest.log 2>&1
check "a destination without tls = yes, from a TLS-only service: refused (0xA801)" grep -q "status 0xA801" plaindest.log
check "... and nothing reached it" [ "$(ls wrong | wc -l)" = 0 ]
"$TLS_CLIENT" move 127.0.0.1 "$PORT" VIEWER CHAOSMASK "$C/client.key" "$C/client.pem" "$C/ca.pem" "$STUDY" NAMED >named.log 2>&1
check "the same destination as a peer whose certificate_name its certificate carries: completed" \
    grep -q "status 0x0000 completed 4 failed 0" named.log
check "... the originals arrived" $PY "$TESTS/compare.py" same-dir study wrong 4

# ---- a peer without host, tied to its certificate by certificate_name
mkdir roamfind
findscu -S -X -od roamfind -aet ROAMING -aec CHAOSMASK +tls "$C/roam.key" "$C/roam.pem" +cf "$C/ca.pem" \
    127.0.0.1 "$PORT" -k QueryRetrieveLevel=STUDY \
    -k StudyInstanceUID="$STUDY" >/dev/null 2>&1
check "a peer without host whose certificate carries its certificate_name: C-FIND answered" [ "$(ls roamfind | wc -l)" = 1 ]
# rejected_as AET CERT: echoscu as AET with certs/CERT.{key,pem} is rejected as an unknown caller
rejected_as() {
    echoscu -aet "$1" -aec CHAOSMASK +tls "$C/$2.key" "$C/$2.pem" +cf "$C/ca.pem" 127.0.0.1 "$PORT" >"$1-$2.log" 2>&1
    grep -q "Calling AE Title Not Recognized" "$1-$2.log"
}
check "the same AE title with a certificate of the site CA that carries another name: rejected" \
    rejected_as ROAMING wrongname
check "... audited with the reason" \
    audit_has association '"does not carry its [peer] certificate_name" in r.get("message", "") and r["outcome"] == "refused"'
for c in "wildcard:a certificate for *.site.example" "partial:a certificate for ws*.site.example" \
         "cnonly:a certificate with ws-7.site.example only as its common name"; do
  check "the same AE title with ${c#*:} (site CA): rejected" rejected_as ROAMING "${c%%:*}"
done

# ---- refused
check "a certificate of the site CA that does not name the peer's host: rejected" rejected_as VIEWER wrongname
check "... audited with the reason" \
    audit_has association '"does not name its [peer] host" in r.get("message", "") and r["outcome"] == "refused"'
echoscu -aet VIEWER -aec CHAOSMASK 127.0.0.1 "$PORT" >plain.log 2>&1
check "a plain association to the TLS-only service is refused" grep -q "Association Request Failed" plain.log
check "... and audited" audit_has association 'r["outcome"] == "failed" and "no association" in r.get("message", "")'
echoscu -aet VIEWER -aec CHAOSMASK +tla +cf "$C/ca.pem" 127.0.0.1 "$PORT" >anon.log 2>&1
check "TLS without a client certificate is refused" grep -q "Association Request Failed" anon.log
echoscu -aet VIEWER -aec CHAOSMASK +tls "$C/rogue.key" "$C/rogue.pem" +cf "$C/ca.pem" 127.0.0.1 "$PORT" >rogue.log 2>&1
check "a client certificate from another CA is refused" grep -q "Association Request Failed" rogue.log
check "the service still answers over TLS" echoscu -aet VIEWER -aec CHAOSMASK "${TLS[@]}" 127.0.0.1 "$PORT"
finish
