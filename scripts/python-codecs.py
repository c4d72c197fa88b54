#!/usr/bin/env python3
"""Writes clip/testdata/python_codecs.txt: what each byte decodes to in the
CPython codecs that ftfy's mojibake repair uses ("----" where the byte is
undefined). clip's TestByteCodecsMatchPython checks the Go tables against it.

    python3 scripts/python-codecs.py > clip/testdata/python_codecs.txt
"""
CODECS = {
    "windows-1250": "cp1250", "windows-1251": "cp1251", "windows-1252": "cp1252",
    "windows-1253": "cp1253", "windows-1254": "cp1254", "windows-1257": "cp1257",
    "iso-8859-2": "iso8859_2", "macroman": "mac_roman", "cp437": "cp437",
}
import sys
print("# byte -> code point in CPython %d.%d's codecs; ---- = undefined" % sys.version_info[:2])
for name, codec in CODECS.items():
    row = []
    for b in range(256):
        try:
            row.append("%04X" % ord(bytes([b]).decode(codec)))
        except UnicodeDecodeError:
            row.append("----")
    print(name, " ".join(row))
