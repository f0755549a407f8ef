"""Which GPUs each CUDA build of MXNet 1.9.1 runs on, read from the wheels themselves.

    .venv/bin/python tools/cuda_builds.py [--version 1.9.1] [mxnet-cu112 ...]

For each `mxnet-cu11x` wheel on the package index (downloaded alone with
`pip download --no-deps`, one at a time, deleted after), it opens `mxnet/libmxnet.so`
inside the wheel (a zip, decompressed as a stream: nothing is extracted) and lists the
GPU code of the CUDA fat binaries embedded in it: machine code (SASS, `sm_XY`) and PTX
(`compute_XY`). It prints a Markdown table (build, CUDA runtime, SASS, PTX, cards) and
the `KNOWN_CUDA_BUILDS` entries for `d2lcourse/devices.py`.

Layout relied on (NVIDIA's fatbin format as written by `fatbinary`, undocumented but
stable since CUDA 4; checked here by the magic number, the header sizes and the kinds):

- ELF64 little-endian: the section headers (`e_shoff`, `e_shentsize`, `e_shnum`,
  `e_shstrndx`) name a section `.nv_fatbin` holding the fat binaries one after the other,
  each 8-byte aligned (zero padding between them);
- a fat binary starts with a 16-byte header: u32 magic 0xBA55ED50, u16 version (1),
  u16 header size (16), u64 size of the entries that follow;
- each entry starts with its own header: u16 kind (1 = PTX, 2 = ELF, i.e. SASS),
  u16 version, u32 header size, u64 payload size (the entry ends at its start plus both),
  ..., u32 target architecture at offset 28 (e.g. 86 for sm_86 / compute_86).

Which cards a build runs on follows CUDA's compatibility rules: SASS for X.Y runs on
compute capability X.Z with Z >= Y (same major only); PTX for X.Y is JIT-compiled by the
driver for any capability >= X.Y (`d2lcourse.devices.matching_kernel`).
"""
import argparse
import datetime
import glob
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

BUILDS = ("mxnet-cu110", "mxnet-cu111", "mxnet-cu112", "mxnet-cu113", "mxnet-cu114",
          "mxnet-cu115", "mxnet-cu116", "mxnet-cu117")
LIBRARY = "mxnet/libmxnet.so"
FATBIN_MAGIC = 0xBA55ED50
FATBIN_HEADER = struct.Struct("<IHHQ")  # magic, version, header size, entries' size
ENTRY_HEADER = struct.Struct("<HHIQ")  # kind, version, header size, payload size
ENTRY_ARCH_OFFSET = 28
ENTRY_KINDS = {1: "ptx", 2: "sass"}
PADDING = 8  # the alignment of fat binaries in .nv_fatbin
CHUNK = 1 << 24

# Compute capabilities of the cards a course may meet (the table's last column).
CARDS = (
    ((3, 7), "K80"), ((5, 2), "M60"), ((6, 0), "P100"), ((7, 0), "V100"), ((7, 5), "T4"),
    ((8, 0), "A100"), ((8, 6), "A10G, RTX 30"), ((8, 9), "L4, L40S, RTX 40"),
    ((9, 0), "H100, H200"), ((10, 0), "B200"),
)


def read_exactly(stream, size):
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"{LIBRARY} ends early")
    return data


def skip(stream, size):
    """Move forward by decompressing, never backwards (a zip stream restarts to go back)."""
    while size > 0:
        size -= len(read_exactly(stream, min(size, CHUNK)))


def elf_sections(stream):
    """{name: (offset, size)} of an ELF64 little-endian file, from the start of `stream`."""
    header = read_exactly(stream, 64)
    if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
        raise ValueError(f"{LIBRARY} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", header, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", header, 0x3A)
    skip(stream, shoff - 64)
    table = read_exactly(stream, shentsize * shnum)
    raw = [struct.unpack_from("<IIQQQQ", table, index * shentsize) for index in range(shnum)]
    return raw, shstrndx


def sections_by_name(open_library):
    """Read the section table (at the end of the file) and the section names."""
    with open_library() as stream:
        raw, shstrndx = elf_sections(stream)
    names_offset, names_size = raw[shstrndx][4], raw[shstrndx][5]
    with open_library() as stream:
        skip(stream, names_offset)
        names = read_exactly(stream, names_size)
    return {names[entry[0]:names.index(b"\0", entry[0])].decode(): (entry[4], entry[5])
            for entry in raw}


def fatbin_targets(stream, size):
    """{"sass": {(major, minor)}, "ptx": {...}} of the fat binaries in the next `size` bytes."""
    targets = {"sass": set(), "ptx": set()}
    position = 0
    while position < size:
        if size - position < FATBIN_HEADER.size:
            skip(stream, size - position)
            break
        header = read_exactly(stream, PADDING)
        if header == bytes(PADDING):  # fat binaries are aligned: zeros between them
            position += PADDING
            continue
        header += read_exactly(stream, FATBIN_HEADER.size - PADDING)
        magic, _, header_size, entries_size = FATBIN_HEADER.unpack(header)
        if magic != FATBIN_MAGIC or header_size != FATBIN_HEADER.size:
            raise ValueError(f"no fat binary header at .nv_fatbin+{position:#x}")
        position += header_size
        end = position + entries_size
        while position < end:
            head = read_exactly(stream, ENTRY_ARCH_OFFSET + 4)
            kind, _, entry_header_size, payload_size = ENTRY_HEADER.unpack_from(head)
            arch, = struct.unpack_from("<I", head, ENTRY_ARCH_OFFSET)
            if kind not in ENTRY_KINDS or entry_header_size < len(head):
                raise ValueError(f"unknown fat binary entry (kind {kind}) at "
                                 f".nv_fatbin+{position:#x}")
            targets[ENTRY_KINDS[kind]].add(divmod(arch, 10))
            skip(stream, entry_header_size - len(head) + payload_size)
            position += entry_header_size + payload_size
    return targets


def library_targets(wheel):
    """The SASS and PTX targets of the CUDA code in the wheel's libmxnet.so."""
    with zipfile.ZipFile(wheel) as archive:
        def open_library():
            return archive.open(LIBRARY)
        offset, size = sections_by_name(open_library)[".nv_fatbin"]
        with open_library() as stream:
            skip(stream, offset)
            return fatbin_targets(stream, size)


def download(build, version, folder):
    """The wheel of `build`==`version` alone, or None when the index has none."""
    done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                           "--only-binary", ":all:", "-d", folder, f"{build}=={version}"],
                          capture_output=True, text=True)
    wheels = glob.glob(os.path.join(folder, "*.whl"))
    return wheels[0] if done.returncode == 0 and wheels else None


def cuda_runtime(build):
    """"mxnet-cu112" -> "11.2"."""
    digits = build.rsplit("-cu", 1)[1]
    return f"{digits[:-1]}.{digits[-1]}"


def dotted(targets):
    return ", ".join(f"{major}.{minor}" for major, minor in sorted(targets)) or "none"


def runs_on(sass, ptx):
    """The cards of CARDS a build has kernels for (the rules in the module docstring)."""
    def fits(capability):
        return (any(major == capability[0] and minor <= capability[1] for major, minor in sass)
                or any(target <= capability for target in ptx))
    return ", ".join(name for capability, name in CARDS if fits(capability)) or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="*", default=BUILDS)
    parser.add_argument("--version", default="1.9.1")
    arguments = parser.parse_args()
    found = {}
    for build in arguments.builds:
        with tempfile.TemporaryDirectory() as folder:
            print(f"{build}=={arguments.version}: downloading", file=sys.stderr, flush=True)
            wheel = download(build, arguments.version, folder)
            if wheel is None:
                print(f"{build}=={arguments.version}: not on the index", file=sys.stderr)
                continue
            found[build] = library_targets(wheel)
    command = "python tools/cuda_builds.py " + " ".join(sys.argv[1:])
    print(f"Read {datetime.date.today()} by `{command.strip()}`:\n")
    print("| build | CUDA runtime | SASS | PTX | runs on |")
    print("|---|---|---|---|---|")
    for build, targets in found.items():
        print(f"| `{build}=={arguments.version}` | {cuda_runtime(build)} | "
              f"{dotted(targets['sass'])} | {dotted(targets['ptx'])} | "
              f"{runs_on(targets['sass'], targets['ptx'])} |")
    print("\nKNOWN_CUDA_BUILDS = {")
    for build, targets in found.items():
        sets = ", ".join(f"frozenset({{{', '.join(map(str, sorted(targets[kind])))}}})"
                         if targets[kind] else "frozenset()" for kind in ("sass", "ptx"))
        print(f'    ("{build}", "{arguments.version}"): ({sets}),')
    print("}")


if __name__ == "__main__":
    main()
