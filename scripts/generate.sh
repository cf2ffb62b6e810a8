#!/usr/bin/env bash
# Regenerates everything generated from proto/: the protoc-c C code, the C descriptor index, the
# Swift messages and method tables, the server handler protocols and the client stubs.
# Needs protoc, protoc-c and the well-known .proto files (google/protobuf/descriptor.proto and
# wrappers.proto; apt: protobuf-compiler, protobuf-c-compiler, libprotobuf-dev). Run from anywhere;
# the freshness test checks the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
protos=$(cd proto && find aftersale -name '*.proto' | LC_ALL=C sort)
# The system's include folder holding google/protobuf/*.proto, and the well-known files the
# contracts import (compiled by protoc-c into the contracts' C target like the rest).
descriptor_dir=$(dirname "$(dirname "$(dirname "$(find /usr/include /usr/local/include -path '*google/protobuf/descriptor.proto' 2>/dev/null | head -1)")")")
wellknown=google/protobuf/wrappers.proto
[ -f "$descriptor_dir/$wellknown" ] || { echo "generate.sh: $wellknown not found under /usr/include or /usr/local/include (apt: libprotobuf-dev)" >&2; exit 1; }

# 1. C code from protoc-c: sources beside their folder, headers under include/. The envelope
#    (rpc.proto) goes to CRPCEnvelope, which the runtime depends on; the contracts and the
#    well-known wrappers to CAfterSaleProto.
envelope=aftersale/v1/rpc
rm -rf Sources/CAfterSaleProto/aftersale Sources/CAfterSaleProto/include/aftersale
rm -rf Sources/CAfterSaleProto/google Sources/CAfterSaleProto/include/google
rm -rf Sources/CRPCEnvelope/aftersale Sources/CRPCEnvelope/include/aftersale
mkdir -p "$tmp/c"
(cd proto && protoc-c -I. -I"$descriptor_dir" --c_out="$tmp/c" $protos $wellknown)
target_of() { case "$1" in ./$envelope.pb-c.*) echo Sources/CRPCEnvelope ;; *) echo Sources/CAfterSaleProto ;; esac; }
for f in $(cd "$tmp/c" && find . -name '*.pb-c.c'); do out=$(target_of "$f"); mkdir -p "$out/$(dirname "$f")"; cp "$tmp/c/$f" "$out/$f"; done
for f in $(cd "$tmp/c" && find . -name '*.pb-c.h'); do out=$(target_of "$f"); mkdir -p "$out/include/$(dirname "$f")"; cp "$tmp/c/$f" "$out/include/$f"; done

# 2. The descriptor.proto C code the generator decodes FileDescriptorSets with.
mkdir -p "$tmp/d"
protoc-c -I"$descriptor_dir" --c_out="$tmp/d" google/protobuf/descriptor.proto
cp "$tmp/d/google/protobuf/descriptor.pb-c.c" Sources/CProtoDescriptor/google/protobuf/
cp "$tmp/d/google/protobuf/descriptor.pb-c.h" Sources/CProtoDescriptor/include/google/protobuf/

# 3. Swift and the descriptor index, from our own generator. --include_imports puts the imported
#    well-known files (the wrappers) in the set, dependencies first.
(cd proto && protoc -I. -I"$descriptor_dir" --include_imports --include_source_info --descriptor_set_out="$tmp/schema.pb" $protos)
swift build --product aftersale-protogen >/dev/null
gen=$(swift build --show-bin-path)/aftersale-protogen
rm -rf Sources/AfterSaleProto/Generated Sources/AfterSaleServices/Generated clients/AfterSaleClient/Generated
"$gen" --descriptor-set "$tmp/schema.pb" --out "$root"
