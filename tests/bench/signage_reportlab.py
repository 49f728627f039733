"""The same job as `cargo bench -p shopcast-print`, done the usual Python way, for comparison:
1,000 product labels (CJK names, distinct QR URLs) on A4 3x8 (70 x 37 mm) with reportlab
and segno, QR codes drawn as vector rectangles, fonts embedded (reportlab subsets TTFs).

    python signage_reportlab.py OUT.pdf      # prints the time
"""

import sys
import time

import segno
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONTS = "crates/print/fonts/"
NAMES = ["龙井绿茶 特级 250g", "碧螺春 明前 100g", "铁观音 浓香型 500g", "普洱熟茶 饼 357g",
         "茉莉花茶 200g", "大红袍 岩茶 150g", "白毫银针 50g", "祁门红茶 250g"]


def signs(n):
    for i in range(n):
        yield {
            "shop": "西湖茶庄 West Lake Tea",
            "name": f"{NAMES[i % len(NAMES)]} #{i + 1}",
            "price": f"¥{20 + i % 480}.{i % 100:02}",
            "url": f"https://shop.example.com/p/SKU-{i + 1}?src=qr&sign=S{i % 97}",
            "cta": "扫码下单 Scan to order",
        }


def runs(text):
    """Split text into (font, run): CJK from Droid Sans Fallback, the rest from DejaVu."""
    out, current, font = [], "", None
    for ch in text:
        f = "Droid" if ord(ch) > 0x2E7F else "DejaVu"
        if f != font and current:
            out.append((font, current))
            current = ""
        font, current = f, current + ch
    if current:
        out.append((font, current))
    return out


def draw_text(c, x, y, text, size, bold=False):
    for font, run in runs(text):
        name = "DejaVu-Bold" if (bold and font == "DejaVu") else font
        c.setFont(name, size)
        c.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)


def main(out):
    started = time.perf_counter()
    pdfmetrics.registerFont(TTFont("DejaVu", FONTS + "DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONTS + "DejaVuSans-Bold.ttf"))
    pdfmetrics.registerFont(TTFont("Droid", FONTS + "DroidSansFallbackFull.ttf"))
    c = canvas.Canvas(out, pagesize=(210 * mm, 297 * mm))
    cols, rows, w, h = 3, 8, 70 * mm, 37 * mm
    for i, s in enumerate(signs(1000)):
        if i and i % (cols * rows) == 0:
            c.showPage()
        cell = i % (cols * rows)
        x0 = (cell % cols) * w
        y0 = 297 * mm - 0.5 * mm - (cell // cols + 1) * h
        qr = segno.make(s["url"], error="m", boost_error=False)
        matrix = qr.matrix
        side = h - 4 * mm
        module = side / (len(matrix) + 8)
        qx, qy = x0 + 2 * mm + 4 * module, y0 + 2 * mm + 4 * module
        path = c.beginPath()
        for r, row in enumerate(matrix):
            col = 0
            while col < len(row):
                if row[col]:
                    start = col
                    while col < len(row) and row[col]:
                        col += 1
                    path.rect(qx + start * module, qy + (len(matrix) - 1 - r) * module, (col - start) * module, module)
                else:
                    col += 1
        c.drawPath(path, stroke=0, fill=1)
        tx = x0 + side + 4 * mm
        draw_text(c, tx, y0 + h - 6 * mm, s["shop"], 6)
        draw_text(c, tx, y0 + h - 11 * mm, s["name"], 8, bold=True)
        draw_text(c, tx, y0 + 10 * mm, s["price"], 14, bold=True)
        draw_text(c, tx, y0 + 5 * mm, s["cta"], 6)
    c.save()
    print(f"reportlab + segno: 1,000 labels in {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1])
