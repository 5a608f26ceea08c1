#!/usr/bin/python3
"""odil_client.py - ODIL (python3-odil), a DICOM implementation independent of DCMTK, talking
to chaosmask-scp.  Prints one line per result for the test script.

  odil_client.py echo  HOST PORT AET AEC
  odil_client.py store HOST PORT AET AEC FILE...      one association; prints "stored N"
  odil_client.py find  HOST PORT AET AEC STUDY_UID     prints "found N" (IMAGE level, study root)
  odil_client.py get   HOST PORT AET AEC STUDY_UID OUTDIR CLASS...
      C-GET of the study accepting the uncompressed syntaxes only (the service decodes what it
      stored compressed); writes OUTDIR/objN.dcm (explicit VR little endian); prints "received N"
"""
import os
import sys

import odil

PC = odil.AssociationParameters.PresentationContext
SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5",
            "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
            "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
            "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.1.99"]


def associate(host, port, aet, aec, contexts):
    a = odil.Association()
    a.set_peer_host(host)
    a.set_peer_port(int(port))
    a.update_parameters().set_calling_ae_title(aet).set_called_ae_title(aec).set_presentation_contexts(contexts)
    a.associate()
    return a


def text(ds, tag):
    v = ds.as_string(tag)[0]
    return v.decode() if isinstance(v, bytes) else v


def cmd_echo(host, port, aet, aec):
    a = associate(host, port, aet, aec, [PC(1, odil.registry.Verification, odil.Value.Strings([SYNTAXES[0]]),
                                           PC.Role.SCU)])
    odil.EchoSCU(a).echo()
    a.release()
    return "echo ok"


def cmd_store(host, port, aet, aec, *files):
    """One association per object, with the one context (its class, its syntax): ODIL's
    StoreSCU picks a context by SOP class alone and would send an object's bytes under another
    context's transfer syntax without converting them."""
    stored = 0
    for f in files:
        with odil.open(f, "rb") as stream:
            header, ds = odil.Reader.read_file(stream)
        ts = text(header, odil.registry.TransferSyntaxUID)
        a = associate(host, port, aet, aec, [PC(1, text(ds, odil.registry.SOPClassUID), odil.Value.Strings([ts]),
                                                PC.Role.SCU)])
        scu = odil.StoreSCU(a)
        scu.set_affected_sop_class(ds)
        try:
            scu.store(ds)
            stored += 1
        except Exception as e:  # a refusal: ODIL raises on a non-success status
            print("refused: %s" % e)
        a.release()
    return "stored %d" % stored


def cmd_find(host, port, aet, aec, study):
    model = odil.registry.StudyRootQueryRetrieveInformationModelFind
    a = associate(host, port, aet, aec, [PC(1, model, odil.Value.Strings([SYNTAXES[0]]), PC.Role.SCU)])
    q = odil.DataSet()
    q.add("QueryRetrieveLevel", odil.Value.Strings(["IMAGE"]))
    q.add("StudyInstanceUID", odil.Value.Strings([study]))
    q.add("SeriesInstanceUID", odil.Value.Strings([]))
    q.add("SOPInstanceUID", odil.Value.Strings([]))
    scu = odil.FindSCU(a)
    scu.set_affected_sop_class(model)
    found = scu.find(q)
    a.release()
    return "found %d" % len(found)


def cmd_get(host, port, aet, aec, study, outdir, *classes):
    model = odil.registry.StudyRootQueryRetrieveInformationModelGet
    contexts = [PC(1, model, odil.Value.Strings([SYNTAXES[0]]), PC.Role.SCU)]
    for c in classes:
        contexts.append(PC(len(contexts) * 2 + 1, c, odil.Value.Strings(SYNTAXES[:2]), PC.Role.SCP))
    a = associate(host, port, aet, aec, contexts)
    q = odil.DataSet()
    q.add("QueryRetrieveLevel", odil.Value.Strings(["STUDY"]))
    q.add("StudyInstanceUID", odil.Value.Strings([study]))
    received = []

    def on_store(ds):
        received.append(ds)
        path = os.path.join(outdir, "obj%d.dcm" % len(received))
        with odil.open(path, "wb") as stream:
            odil.Writer.write_file(ds, stream)

    scu = odil.GetSCU(a)
    scu.set_affected_sop_class(model)
    scu.get(q, on_store, lambda rsp: None)
    a.release()
    return "received %d" % len(received)


def main():
    handlers = {"echo": cmd_echo, "store": cmd_store, "find": cmd_find, "get": cmd_get}
    if len(sys.argv) < 6 or sys.argv[1] not in handlers:
        sys.exit(__doc__)
    try:
        print(handlers[sys.argv[1]](*sys.argv[2:]), flush=True)
    except Exception as e:
        print("failed: %s" % e, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
