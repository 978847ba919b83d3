"""Compile proto/ into extproc/generated/ with grpcio-tools (`make protos`).

Envoy's own .proto sources are not packaged anywhere installable, but the xds-protos
wheel carries their compiled descriptors: those are written out as a descriptor set for
protoc's imports, so our files can use Envoy's messages as they are.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from envoy.service.ext_proc.v3 import external_processor_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FileDescriptor
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "proto"
OUT = ROOT / "extproc" / "generated"


def _descriptor_set(root: FileDescriptor) -> descriptor_pb2.FileDescriptorSet:
    """Every file `root` depends on (itself included), dependencies first."""
    ordered: list[FileDescriptor] = []
    seen: set[str] = set()

    def visit(file: FileDescriptor) -> None:
        if file.name in seen:
            return
        seen.add(file.name)
        for dependency in file.dependencies:
            visit(dependency)
        ordered.append(file)

    visit(root)
    result = descriptor_pb2.FileDescriptorSet()
    for file in ordered:
        file.CopyToProto(result.file.add())
    return result


def main() -> int:
    OUT.mkdir(exist_ok=True)
    (OUT / "__init__.py").write_text('"""Code generated from proto/ by proto/generate.py."""\n')
    protos = sorted(str(p.relative_to(SOURCES)) for p in SOURCES.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as scratch:
        deps = Path(scratch) / "deps.pb"
        deps.write_bytes(_descriptor_set(external_processor_pb2.DESCRIPTOR).SerializeToString())
        status: int = protoc.main(
            [
                "protoc",
                f"--descriptor_set_in={deps}",
                f"--proto_path={SOURCES}",
                f"--python_out={OUT}",
                f"--pyi_out={OUT}",
                *protos,
            ]
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
