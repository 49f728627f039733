"""An ESC/POS reader written from the Epson ESC/POS command reference, independent of our
writer (crates/print/src/receipt/escpos.rs), for the receipt tests.

Every command is parsed by its documented length; what the reader does not know, or what
ends before its declared length, is listed under "unknown" (hex), never skipped silently.

    python3 escpos_reader.py decode FILE          # JSON on stdout
    python3 escpos_reader.py serve --port 9100 --out DIR [--count N]
    python3 escpos_reader.py selftest

decode JSON: {"lines": [text lines as printed], "widths": [columns of font A each line
takes on paper: a Kanji-mode character is two, GS ! multiplies], "qr": [payloads stored by GS ( k fn 80],
"qr_printed": n (fn 81), "cuts": n, "cut_last": bool (only whitespace/LF after the last
cut), "drawer_kicks": [[m, t1, t2]] (ESC p), "images": [[width_px, height_px]], "inits": n
(ESC @), "unknown": [hex], "unprinted": text left in the buffer with no LF after it,
"pulses": [[m, t]] (DLE DC4 1)}.

Text is CP437 (or the code table ESC t chose) outside Chinese mode and GB18030 between
FS & and FS . ; ESC @ returns to the power-on state (code table 0, Chinese mode off).

serve: a raw-TCP printer on 127.0.0.1 (port 0 picks a free one). Each connection's bytes,
until the client closes, go to DIR/receipt-<n>.bin and DIR/receipt-<n>.json (n from 1,
written whole then renamed, so a reader never sees half a file). DIR/ready holds the port
once the server listens. With --count N it exits after N connections.
"""

import argparse
import json
import os
import socket
import sys

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C

# ESC t n: the code tables Python has a codec for (Epson page numbers).
CODE_TABLES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}

# Commands with a fixed count of parameter bytes after the two-byte command.
ESC_FIXED = {
    0x20: 1,  # ESC SP n   right-side character spacing
    0x21: 1,  # ESC ! n    print mode
    0x24: 2,  # ESC $ nL nH absolute print position
    0x25: 1,  # ESC % n    user-defined character set on/off
    0x2D: 1,  # ESC - n    underline
    0x32: 0,  # ESC 2      default line spacing
    0x33: 1,  # ESC 3 n    line spacing
    0x3C: 0,  # ESC <      return home
    0x3D: 1,  # ESC = n    peripheral device
    0x3F: 1,  # ESC ? n    cancel user-defined character
    0x45: 1,  # ESC E n    emphasized
    0x47: 1,  # ESC G n    double-strike
    0x4C: 0,  # ESC L      page mode
    0x4D: 1,  # ESC M n    character font
    0x52: 1,  # ESC R n    international character set
    0x53: 0,  # ESC S      standard mode
    0x54: 1,  # ESC T n    print direction (page mode)
    0x55: 1,  # ESC U n    unidirectional printing
    0x56: 1,  # ESC V n    90° rotation
    0x57: 8,  # ESC W ...  print area (page mode)
    0x5C: 2,  # ESC \ nL nH relative print position
    0x61: 1,  # ESC a n    justification
    0x72: 1,  # ESC r n    print colour
    0x7B: 1,  # ESC { n    upside-down
}
GS_FIXED = {
    0x24: 2,  # GS $ nL nH absolute vertical position (page mode)
    0x2F: 1,  # GS / m     print downloaded bit image
    0x3A: 0,  # GS :       macro definition start/end
    0x42: 1,  # GS B n     white/black reverse
    0x48: 1,  # GS H n     HRI position
    0x49: 1,  # GS I n     transmit printer ID
    0x4C: 2,  # GS L nL nH left margin
    0x50: 2,  # GS P x y   motion units
    0x54: 1,  # GS T n     print position to line start
    0x57: 2,  # GS W nL nH print area width
    0x5C: 2,  # GS \ nL nH relative vertical position (page mode)
    0x5E: 3,  # GS ^ r t m execute macro
    0x61: 1,  # GS a n     automatic status back
    0x62: 1,  # GS b n     smoothing
    0x66: 1,  # GS f n     HRI font
    0x68: 1,  # GS h n     bar code height
    0x72: 1,  # GS r n     transmit status
    0x77: 1,  # GS w n     bar code width
}
FS_FIXED = {
    0x21: 1,  # FS ! n     Kanji print mode
    0x2D: 1,  # FS - n     Kanji underline
    0x43: 1,  # FS C n     Kanji code system
    0x53: 2,  # FS S n1 n2 Kanji spacing
    0x57: 1,  # FS W n     Kanji quadruple size
    0x70: 2,  # FS p n m   print NV bit image
}


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0
        self.lines = []
        self.text = bytearray()  # bytes of the line being built, in the current encoding
        self.line = ""  # decoded part of the line being built (encodings may change in it)
        self.widths = []
        self.width = 0  # columns of font A the line being built takes on paper
        self.wide = 1  # GS ! width multiplier
        self.chinese = False
        self.table = 0
        self.qr = []
        self.qr_printed = 0
        self.cuts = 0
        self.cut_end = None
        self.kicks = []
        self.pulses = []
        self.images = []
        self.inits = 0
        self.unknown = []

    # Text.
    def flush_text(self):
        if not self.text:
            return
        raw = bytes(self.text)
        self.text.clear()
        if self.chinese:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                self.unknown.append("bad GB18030 text: " + raw.hex())
                text = raw.decode("gb18030", errors="replace")
            # Kanji mode prints every multi-byte character in the 24-dot Kanji font: two
            # columns of the 12-dot font A, whatever the character is.
            self.width += sum(1 if ord(c) < 0x80 else 2 for c in text) * self.wide
            self.line += text
        else:
            codec = CODE_TABLES.get(self.table)
            if codec is None:
                self.unknown.append(f"text in code table {self.table}: " + raw.hex())
                codec = "cp437"
            self.line += raw.decode(codec)
            self.width += len(raw) * self.wide

    def end_line(self):
        self.flush_text()
        self.lines.append(self.line)
        self.widths.append(self.width)
        self.line = ""
        self.width = 0

    def set_chinese(self, on):
        self.flush_text()
        self.chinese = on

    # Parsing helpers.
    def need(self, start, count):
        """The bytes [pos, pos+count), or None (reported) when the stream ends first."""
        if self.pos + count > len(self.data):
            self.unknown.append("truncated: " + self.data[start:].hex())
            self.pos = len(self.data)
            return None
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def run(self):
        data = self.data
        while self.pos < len(data):
            start = self.pos
            b = data[self.pos]
            self.pos += 1
            if b == LF:
                self.end_line()
            elif b == CR:
                pass  # with auto line feed off (the default) CR prints nothing by itself
            elif b == HT:
                self.flush_text()
                self.line += "\t"
            elif b == FF:
                self.end_line()
            elif b == ESC:
                self.esc(start)
            elif b == GS:
                self.gs(start)
            elif b == FS:
                self.fs(start)
            elif b == DLE:
                self.dle(start)
            elif b < 0x20 or b == 0x7F:
                self.unknown.append(bytes([b]).hex())
            elif self.chinese and 0x81 <= b <= 0xFE:
                self.gb_char(start)
            else:
                self.text.append(b)
        self.flush_text()
        return self.result()

    def gb_char(self, start):
        """A GB18030 multi-byte character: lead, then one trail byte or three more bytes."""
        second = self.need(start, 1)
        if second is None:
            return
        s = second[0]
        if 0x30 <= s <= 0x39:
            rest = self.need(start, 2)
            if rest is None:
                return
            self.text += self.data[start : self.pos]
        elif 0x40 <= s <= 0xFE and s != 0x7F:
            self.text += self.data[start : self.pos]
        else:
            self.unknown.append("bad GB18030 text: " + self.data[start : self.pos].hex())

    def esc(self, start):
        head = self.need(start, 1)
        if head is None:
            return
        c = head[0]
        if c == 0x40:  # ESC @ initialize
            self.flush_text()
            if self.line:
                # The buffer is cleared, so the unfinished line is never printed.
                self.unknown.append("text cleared by ESC @: " + self.line.encode().hex())
                self.line = ""
            self.inits += 1
            self.chinese = False
            self.table = 0
            self.wide = 1
        elif c == 0x74:  # ESC t n select code table
            arg = self.need(start, 1)
            if arg is not None:
                self.flush_text()
                self.table = arg[0]
        elif c == 0x64:  # ESC d n print and feed n lines
            arg = self.need(start, 1)
            if arg is not None:
                self.end_line()
                for _ in range(max(arg[0] - 1, 0)):
                    self.lines.append("")
                self.widths.append(0)
        elif c in (0x4A, 0x65):  # ESC J n feed n dots / ESC e n reverse feed n lines
            if self.need(start, 1) is not None:
                self.end_line()
        elif c == 0x70:  # ESC p m t1 t2 generate pulse (drawer kick)
            arg = self.need(start, 3)
            if arg is not None:
                self.kicks.append(list(arg))
        elif c in (0x69, 0x6D):  # ESC i / ESC m cut (obsolete forms)
            self.cut()
        elif c == 0x2A:  # ESC * m nL nH d1...dk bit image
            arg = self.need(start, 3)
            if arg is None:
                return
            m, n = arg[0], arg[1] + arg[2] * 256
            if m in (0, 1):
                rows, k = 8, n
            elif m in (32, 33):
                rows, k = 24, n * 3
            else:
                self.unknown.append(self.data[start : self.pos].hex())
                return
            if self.need(start, k) is not None:
                self.images.append([n, rows])
        elif c == 0x44:  # ESC D n1...nk NUL horizontal tab positions
            end = self.data.find(b"\x00", self.pos)
            if end < 0:
                self.need(start, len(self.data) - self.pos + 1)
            else:
                self.pos = end + 1
        elif c == 0x63:  # ESC c 3/4/5 n paper sensor and panel buttons
            arg = self.need(start, 2)
            if arg is not None and arg[0] not in (0x33, 0x34, 0x35):
                self.unknown.append(self.data[start : self.pos].hex())
        elif c == 0x26:  # ESC & y c1 c2 [x d1...d(y*x)]... define user-defined characters
            arg = self.need(start, 3)
            if arg is None:
                return
            y, c1, c2 = arg
            for _ in range(max(c2 - c1 + 1, 0)):
                x = self.need(start, 1)
                if x is None or self.need(start, y * x[0]) is None:
                    return
        elif c in ESC_FIXED:
            self.need(start, ESC_FIXED[c])
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def gs(self, start):
        head = self.need(start, 1)
        if head is None:
            return
        c = head[0]
        if c == 0x21:  # GS ! n character size: width (n >> 4) + 1, height (n & 7) + 1
            arg = self.need(start, 1)
            if arg is not None:
                self.flush_text()
                self.wide = (arg[0] >> 4 & 7) + 1
        elif c == 0x56:  # GS V m [n] cut
            arg = self.need(start, 1)
            if arg is None:
                return
            m = arg[0]
            if m in (0, 1, 48, 49):
                pass
            elif m in (65, 66, 97, 98, 103, 104):
                if self.need(start, 1) is None:
                    return
            else:
                self.unknown.append(self.data[start : self.pos].hex())
                return
            self.cut()
        elif c == 0x76:  # GS v 0 m xL xH yL yH d1...dk raster bit image
            arg = self.need(start, 6)
            if arg is None:
                return
            if arg[0] != 0x30 or arg[1] not in (0, 1, 2, 3, 48, 49, 50, 51):
                self.unknown.append(self.data[start : self.pos].hex())
                return
            width_bytes = arg[2] + arg[3] * 256
            height = arg[4] + arg[5] * 256
            if self.need(start, width_bytes * height) is not None:
                self.images.append([width_bytes * 8, height])
        elif c == 0x28:  # GS ( X pL pH ... : p = pL + pH*256 bytes follow
            self.gs_paren(start)
        elif c == 0x38:  # GS 8 L p1 p2 p3 p4 m fn ...: graphics with a 4-byte length
            arg = self.need(start, 5)
            if arg is None:
                return
            if arg[0] != 0x4C:
                self.unknown.append(self.data[start : self.pos].hex())
                return
            p = arg[1] | arg[2] << 8 | arg[3] << 16 | arg[4] << 24
            body = self.need(start, p)
            if body is not None:
                self.graphics(start, body)
        elif c == 0x6B:  # GS k m ... bar code
            arg = self.need(start, 1)
            if arg is None:
                return
            m = arg[0]
            if m <= 6:
                end = self.data.find(b"\x00", self.pos)
                if end < 0:
                    self.need(start, len(self.data) - self.pos + 1)
                else:
                    self.pos = end + 1
            elif 65 <= m <= 79:
                n = self.need(start, 1)
                if n is not None:
                    self.need(start, n[0])
            else:
                self.unknown.append(self.data[start : self.pos].hex())
        elif c == 0x2A:  # GS * x y d1...d(x*y*8) define downloaded bit image
            arg = self.need(start, 2)
            if arg is not None:
                self.need(start, arg[0] * arg[1] * 8)
        elif c in GS_FIXED:
            self.need(start, GS_FIXED[c])
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def gs_paren(self, start):
        arg = self.need(start, 3)
        if arg is None:
            return
        kind, p = arg[0], arg[1] + arg[2] * 256
        body = self.need(start, p)
        if body is None:
            return
        if kind == 0x6B:  # GS ( k: 2D symbols; cn 49 is QR Code
            self.symbol(start, body)
        elif kind == 0x4C:  # GS ( L: graphics
            self.graphics(start, body)
        elif kind in (0x41, 0x43, 0x44, 0x45, 0x48, 0x4B, 0x4D, 0x4E, 0x50, 0x51):
            pass  # test print, NV memory, real-time enable, user setup, response, print control…
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def symbol(self, start, body):
        if len(body) < 2:
            self.unknown.append(self.data[start : self.pos].hex())
            return
        cn, fn = body[0], body[1]
        if cn != 49:
            return  # PDF417 (48), MaxiCode (50), 2D GS1 DataBar (51), Composite (52)…
        if fn == 80:  # Function 180: store data, m = 48 then the data
            if len(body) < 3 or body[2] != 48:
                self.unknown.append(self.data[start : self.pos].hex())
                return
            raw = body[3:]
            try:
                self.qr.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                self.qr.append(raw.decode("latin-1"))
        elif fn == 81:  # Function 181: print the stored symbol
            self.qr_printed += 1
        elif fn in (65, 67, 69, 82):  # model, module size, error correction, transmit size
            pass
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def graphics(self, start, body):
        if len(body) < 2 or body[0] != 0x30:
            self.unknown.append(self.data[start : self.pos].hex())
            return
        fn = body[1]
        if fn in (112, 113):  # store raster (112) / column (113) graphics: a bx by c xL xH yL yH
            if len(body) < 10:
                self.unknown.append(self.data[start : self.pos].hex())
                return
            self.images.append([body[6] + body[7] * 256, body[8] + body[9] * 256])
        # Function 50 (2 / 50) prints what was stored; the others manage NV memory.

    def fs(self, start):
        head = self.need(start, 1)
        if head is None:
            return
        c = head[0]
        if c == 0x26:  # FS & Kanji (Chinese) mode on
            self.set_chinese(True)
        elif c == 0x2E:  # FS . Kanji mode off
            self.set_chinese(False)
        elif c == 0x28:  # FS ( X pL pH ...
            arg = self.need(start, 3)
            if arg is not None:
                self.need(start, arg[1] + arg[2] * 256)
        elif c in FS_FIXED:
            self.need(start, FS_FIXED[c])
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def dle(self, start):
        head = self.need(start, 1)
        if head is None:
            return
        c = head[0]
        if c == 0x04:  # DLE EOT n (n = 7, 8 take one more byte)
            arg = self.need(start, 1)
            if arg is not None and arg[0] in (7, 8):
                self.need(start, 1)
        elif c == 0x05:  # DLE ENQ n
            self.need(start, 1)
        elif c == 0x14:  # DLE DC4 fn ...
            arg = self.need(start, 1)
            if arg is None:
                return
            if arg[0] == 1:  # generate pulse in real time: m t
                mt = self.need(start, 2)
                if mt is not None:
                    self.pulses.append(list(mt))
            elif arg[0] in (2, 7):
                self.need(start, 2)
            elif arg[0] == 8:
                self.need(start, 7)
            else:
                self.unknown.append(self.data[start : self.pos].hex())
        else:
            self.unknown.append(self.data[start : self.pos].hex())

    def cut(self):
        if self.text or self.line:
            self.end_line()  # the printer prints what it holds before it cuts
        self.cuts += 1
        self.cut_end = self.pos

    def result(self):
        unprinted = self.line
        tail = self.data[self.cut_end :] if self.cut_end is not None else b""
        return {
            "lines": self.lines,
            "widths": self.widths,
            "qr": self.qr,
            "qr_printed": self.qr_printed,
            "cuts": self.cuts,
            "cut_last": self.cut_end is not None and all(b in b" \t\r\n" for b in tail),
            "drawer_kicks": self.kicks,
            "images": self.images,
            "inits": self.inits,
            "unknown": self.unknown,
            "unprinted": unprinted,
            "pulses": self.pulses,
        }


def decode(data):
    return Reader(data).run()


def write_whole(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def serve(port, out, count):
    os.makedirs(out, exist_ok=True)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    write_whole(os.path.join(out, "ready"), str(server.getsockname()[1]).encode())
    n = 0
    while count is None or n < count:
        conn, _ = server.accept()
        n += 1
        # A client that never closes would hold the printer forever; a real one times out too.
        conn.settimeout(30)
        chunks, timed_out = [], False
        with conn:
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except socket.timeout:
                timed_out = True
        data = b"".join(chunks)
        receipt = decode(data)
        if timed_out:
            receipt["unknown"].append("connection timed out before the client closed")
        base = os.path.join(out, f"receipt-{n}")
        write_whole(base + ".bin", data)
        write_whole(
            base + ".json",
            json.dumps(receipt, ensure_ascii=False, indent=1).encode("utf-8"),
        )
    server.close()


def selftest():
    """Decodes a stream built here from the command reference, byte by byte."""
    link = b"https://shop.example/r/1"
    p = len(link) + 3
    stream = (
        b"\x1b@"  # ESC @
        + b"\x1ba\x01"  # ESC a 1 centre
        + b"\x1bE\x01Shop\x1bE\x00\n"  # ESC E 1 … ESC E 0, LF
        + b"\x1d!\x11"  # GS ! double width and height
        + b"\x1c&"
        + "龙井 tea".encode("gb18030")
        + b"\x1c.\n"  # FS & … FS .
        + b"caf\x82\n"  # CP437 é
        + b"\x1dv0\x00\x02\x00\x03\x00"
        + bytes(6)  # GS v 0: 2 bytes (16 dots) wide, 3 rows
        + b"\x1d(k\x04\x001A2\x00"  # fn 65 model 2
        + b"\x1d(k\x03\x001C\x06"  # fn 67 module size 6
        + b"\x1d(k\x03\x001E1"  # fn 69 level M
        + b"\x1d(k"
        + bytes([p & 0xFF, p >> 8])
        + b"1P0"
        + link  # fn 80 store
        + b"\x1d(k\x03\x001Q0"  # fn 81 print
        + b"\x1bp\x00\x19\xfa"  # ESC p 0 25 250
        + b"\x1dVB\x03"  # GS V 66 3 feed and cut
        + b"\n"
    )
    got = decode(stream)
    want = {
        "lines": ["Shop", "龙井 tea", "café", ""],
        "widths": [4, 16, 8, 0],  # GS ! 0x11 doubles the width from line 2 on
        "qr": [link.decode()],
        "qr_printed": 1,
        "cuts": 1,
        "cut_last": True,
        "drawer_kicks": [[0, 25, 250]],
        "images": [[16, 3]],
        "inits": 1,
        "unknown": [],
        "unprinted": "",
        "pulses": [],
    }
    assert got == want, json.dumps(got, ensure_ascii=False)

    # A QR store that declares more bytes than arrive, and a command nobody defined.
    bad = decode(b"\x1b@\x1b\x7fok\n\x1d(k\x20\x001P0abc")
    assert bad["lines"] == ["ok"], bad
    assert bad["unknown"] == ["1b7f", "truncated: 1d286b2000315030616263"], bad
    assert bad["qr"] == [] and not bad["cut_last"], bad

    # Text after the last cut, and a GB18030 lead byte that never gets its trail byte.
    tail = decode(b"\x1dV\x00x\n\x1c&\xc1")
    assert tail["cuts"] == 1 and not tail["cut_last"], tail
    assert tail["unknown"] == ["truncated: c1"], tail
    print("escpos_reader selftest: ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="decode a file of ESC/POS bytes to JSON")
    dec.add_argument("file")
    srv = sub.add_parser("serve", help="a raw-TCP printer that decodes each job")
    srv.add_argument("--port", type=int, default=9100)
    srv.add_argument("--out", required=True)
    srv.add_argument("--count", type=int)
    sub.add_parser("selftest", help="decode a hand-built stream and check it")
    args = parser.parse_args()
    if args.command == "decode":
        with open(args.file, "rb") as f:
            data = f.read()
        json.dump(decode(data), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    elif args.command == "serve":
        serve(args.port, args.out, args.count)
    else:
        selftest()


if __name__ == "__main__":
    main()
