#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Writes example NetBoot sets (small dummy files) into a folder.

usage: make_sets.py DIR [--extra N]

  NetInstall 10.13.nbi   HTTP, i386: booter, i386/x86_64/kernelcache,
                          NetInstall.dmg; the default image. Its folder name
                          has a space, so its root path shows %-escaping.
  NetBoot-NFS.nbi        NFS, i386 (served when nfs-url is configured)
  iPXE.nbi               BootFileOnly, i386: snponly.efi, with a ChainURL
  --extra N              N more HTTP sets (Extra-01.nbi ...), for long lists

Also usable as a module: write_set(dir, folder, keys, files).
"""
import os
import plistlib
import sys

EXAMPLES = [
    ("NetInstall 10.13.nbi", {
        "Name": "macOS High Sierra NetInstall", "Index": 1001, "Type": "HTTP", "Kind": 1,
        "IsInstall": True, "IsDefault": True, "IsEnabled": True, "BootFile": "booter",
        "Architectures": ["i386"], "RootPath": "NetInstall.dmg",
        "Description": "Example HTTP NetInstall set",
    }, ["i386/booter", "i386/x86_64/kernelcache", "i386/PlatformSupport.plist",
        "i386/com.apple.Boot.plist", "NetInstall.dmg"]),
    ("NetBoot-NFS.nbi", {
        "Name": "NetBoot over NFS", "Index": 1002, "Type": "NFS", "Kind": 1,
        "IsInstall": False, "IsEnabled": True, "BootFile": "booter",
        "Architectures": ["i386"], "RootPath": "NetBoot.dmg",
    }, ["i386/booter", "i386/x86_64/kernelcache", "NetBoot.dmg"]),
    ("iPXE.nbi", {
        "Name": "iPXE chain (ESXi)", "Index": 1003, "Type": "BootFileOnly", "Kind": 1,
        "IsEnabled": True, "BootFile": "snponly.efi", "Architectures": ["i386"],
        "ChainURL": "http://198.18.0.1/esxi/mboot.efi",
    }, ["i386/snponly.efi"]),
]


def write_set(directory, folder, keys, files, binary=False):
    """One set folder: NBImageInfo.plist from keys, plus small dummy files."""
    path = os.path.join(directory, folder)
    os.makedirs(path, exist_ok=True)
    for rel in files:
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"dummy " + rel.encode() + b"\n")
    fmt = plistlib.FMT_BINARY if binary else plistlib.FMT_XML
    with open(os.path.join(path, "NBImageInfo.plist"), "wb") as f:
        plistlib.dump(keys, f, fmt=fmt)
    return path


def extra_set(i):
    """The i-th (1-based) extra HTTP set: index 2000 + i."""
    return ("Extra-%02d.nbi" % i, {
        "Name": "Extra image %02d with a longer menu name" % i, "Index": 2000 + i,
        "Type": "HTTP", "Kind": 1, "IsEnabled": True, "BootFile": "booter",
        "Architectures": ["i386"], "RootPath": "NetInstall.dmg",
    }, ["i386/booter", "i386/x86_64/kernelcache", "NetInstall.dmg"])


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--extra"):
        sys.exit(__doc__)
    directory = argv[1]
    extra = int(argv[3]) if len(argv) == 4 else 0
    os.makedirs(directory, exist_ok=True)
    for folder, keys, files in EXAMPLES:
        write_set(directory, folder, keys, files)
    for i in range(1, extra + 1):
        write_set(directory, *extra_set(i))
    print("make_sets: %d set(s) in %s" % (len(EXAMPLES) + extra, directory))


if __name__ == "__main__":
    main(sys.argv)
