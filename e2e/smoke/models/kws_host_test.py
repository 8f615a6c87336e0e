"""The host's keyword-spotter engines verify, and the OCI image carries them unchanged."""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

verify, *files = sys.argv[1:]
host_files = [Path(f) for f in files]
(manifest_path,) = [f for f in host_files if f.name == "manifest.json"]
manifest = json.loads(manifest_path.read_text())

# kiln's verifier checks every engine against its sidecar and the manifest.
subprocess.run([verify, str(manifest_path.parent)], check=True)
assert manifest["device"]["name"] == "host", manifest["device"]
assert set(manifest["device"]["uses"]) == {"keyword_spotter"}, manifest["device"]["uses"]

(layout,) = [Path(p) for p in os.environ["IMAGE"].split() if Path(p).is_dir()]
index = json.loads((layout / "index.json").read_text())
(descriptor,) = index["manifests"]


def blob(digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


image = json.loads(blob(descriptor["digest"]))
shipped = {}
for layer in image["layers"]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(layer["digest"])))) as archive:
        for member in archive.getmembers():
            if member.isfile():
                shipped[member.name.removeprefix("./")] = hashlib.sha256(archive.extractfile(member).read()).hexdigest()
for record in manifest["engines"]:
    name = record["engine"]["file"]
    assert shipped.get(f"engines/{name}") == record["engine"]["sha256"], f"{name} is not in the image unchanged"
assert "corpus/invariants.validated.yaml" in shipped, sorted(shipped)
print(f"{len(manifest['engines'])} engines verified and shipped in the image; {len(shipped)} files in all")
