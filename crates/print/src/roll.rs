//! A narrow column of text laid out top to bottom, as receipts and till reports print it:
//! on a 58 or 80 mm roll (one page exactly as tall as its content) or at the top of A4.
//!
//! Rows are measured first and drawn once the page height is known (a roll page grows to
//! fit; on A4 a row that does not fit starts a new page).

use std::collections::BTreeSet;

use printpdf::{
    CurTransMat, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfPage, Point, Polygon, PolygonRing,
    Pt, WindingOrder, XObjectTransform,
};

use crate::error::PrintError;
use crate::fonts::Fonts;
use crate::logo::Logo;
use crate::pdf::{MM_TO_PT, assemble, grey, round2, save, show_text};
use crate::qr::{EcLevel, Matrix, QUIET_ZONE, QrCode};
use crate::receipt::Paper;
use crate::text_fit::wrap;

/// Where the column sits on the paper, in mm.
struct Geometry {
    page_width: f32,
    /// `None`: the page is as tall as its content (a roll).
    page_height: Option<f32>,
    left: f32,
    width: f32,
    top: f32,
    bottom: f32,
    body_pt: f32,
}

fn geometry(paper: Paper) -> Geometry {
    match paper {
        // Thermal heads print about 48 and 72 mm of the 58 and 80 mm rolls.
        Paper::Roll58 => Geometry {
            page_width: 58.0,
            page_height: None,
            left: 4.0,
            width: 50.0,
            top: 4.0,
            bottom: 8.0,
            body_pt: 7.5,
        },
        Paper::Roll80 => Geometry {
            page_width: 80.0,
            page_height: None,
            left: 5.0,
            width: 70.0,
            top: 5.0,
            bottom: 10.0,
            body_pt: 8.5,
        },
        // A receipt-wide column centred at the top of the sheet.
        Paper::A4 => Geometry {
            page_width: 210.0,
            page_height: Some(297.0),
            left: 55.0,
            width: 100.0,
            top: 15.0,
            bottom: 15.0,
            body_pt: 10.0,
        },
    }
}

/// How a piece of text looks, relative to the paper's body size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    /// Times the body size.
    pub(crate) scale: f32,
    pub(crate) bold: bool,
    /// 0 = black.
    pub(crate) grey: f32,
}

pub(crate) const BODY: Look = Look {
    scale: 1.0,
    bold: false,
    grey: 0.0,
};
pub(crate) const STRONG: Look = Look {
    scale: 1.0,
    bold: true,
    grey: 0.0,
};
pub(crate) const MUTED: Look = Look {
    scale: 0.9,
    bold: false,
    grey: 0.35,
};
pub(crate) const HEADING: Look = Look {
    scale: 1.15,
    bold: true,
    grey: 0.0,
};
pub(crate) const TITLE: Look = Look {
    scale: 1.6,
    bold: true,
    grey: 0.0,
};

/// Something drawn in a row; x from the column's left edge, y from the row's top (mm).
enum Mark {
    Text {
        x: f32,
        baseline: f32,
        text: String,
        size_pt: f32,
        bold: bool,
        grey: f32,
    },
    Rule {
        y: f32,
    },
    Qr {
        x: f32,
        y: f32,
        side: f32,
        matrix: Matrix,
    },
    Logo {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

struct Row {
    height: f32,
    marks: Vec<Mark>,
}

/// The column being laid out.
pub(crate) struct Column<'f> {
    fonts: &'f Fonts,
    geometry: Geometry,
    rows: Vec<Row>,
}

impl<'f> Column<'f> {
    pub(crate) fn new(paper: Paper) -> Result<Self, PrintError> {
        Ok(Column {
            fonts: Fonts::get()?,
            geometry: geometry(paper),
            rows: Vec::new(),
        })
    }

    fn width(&self) -> f32 {
        self.geometry.width
    }

    fn size_pt(&self, look: Look) -> f32 {
        self.geometry.body_pt * look.scale
    }

    fn line_height(&self, look: Look) -> f32 {
        self.size_pt(look) / MM_TO_PT * 1.3
    }

    fn measure(&self, text: &str, look: Look) -> f32 {
        self.fonts.width_em(text, look.bold) * self.size_pt(look) / MM_TO_PT
    }

    /// `text` broken into lines of at most `width` mm, paragraph by paragraph.
    fn lines(&self, text: &str, look: Look, width: f32) -> Vec<String> {
        let em = width * MM_TO_PT / self.size_pt(look);
        text.lines()
            .map(|p| p.replace(char::is_control, " "))
            .filter(|p| !p.trim().is_empty())
            .flat_map(|p| wrap(self.fonts, p.trim(), look.bold, em, usize::MAX))
            .collect()
    }

    fn text_mark(&self, x: f32, row_top: f32, text: String, look: Look) -> Mark {
        let size_pt = self.size_pt(look);
        Mark::Text {
            x,
            baseline: row_top + size_pt / MM_TO_PT,
            text,
            size_pt,
            bold: look.bold,
            grey: look.grey,
        }
    }

    /// Space between blocks.
    pub(crate) fn gap(&mut self, mm: f32) {
        self.rows.push(Row {
            height: mm,
            marks: Vec::new(),
        });
    }

    /// Wrapped text, each line centred.
    pub(crate) fn centred(&mut self, text: &str, look: Look) {
        for line in self.lines(text, look, self.width()) {
            let x = (self.width() - self.measure(&line, look)).max(0.0) / 2.0;
            let mark = self.text_mark(x, 0.0, line, look);
            self.rows.push(Row {
                height: self.line_height(look),
                marks: vec![mark],
            });
        }
    }

    /// Wrapped text from the left edge (plus `indent` mm).
    pub(crate) fn left(&mut self, text: &str, look: Look, indent: f32) {
        for line in self.lines(text, look, self.width() - indent) {
            let mark = self.text_mark(indent, 0.0, line, look);
            self.rows.push(Row {
                height: self.line_height(look),
                marks: vec![mark],
            });
        }
    }

    /// `label` from the left (plus `indent`), wrapped beside `amount`, which ends at the
    /// right edge on the label's first line (or on a line of its own when it is wider
    /// than half the column).
    pub(crate) fn label_amount(&mut self, label: &str, amount: &str, look: Look, indent: f32) {
        let amount = amount.replace(char::is_control, " ");
        let amount = amount.trim();
        let amount_w = self.measure(amount, look);
        let gap = 2.0;
        let beside = amount_w <= self.width() * 0.5;
        let label_w = if beside {
            self.width() - indent - amount_w - gap
        } else {
            self.width() - indent
        };
        let mut lines = self.lines(label, look, label_w).into_iter();
        let first = lines.next();
        let mut marks = Vec::new();
        if let Some(first) = first {
            marks.push(self.text_mark(indent, 0.0, first, look));
        }
        if !beside && !marks.is_empty() {
            self.rows.push(Row {
                height: self.line_height(look),
                marks: std::mem::take(&mut marks),
            });
            for line in lines.by_ref() {
                self.left_row(line, look, indent);
            }
        }
        if !amount.is_empty() {
            let x = (self.width() - amount_w).max(0.0);
            marks.push(self.text_mark(x, 0.0, amount.to_string(), look));
        }
        if !marks.is_empty() {
            self.rows.push(Row {
                height: self.line_height(look),
                marks,
            });
        }
        for line in lines {
            self.left_row(line, look, indent);
        }
    }

    fn left_row(&mut self, line: String, look: Look, indent: f32) {
        let mark = self.text_mark(indent, 0.0, line, look);
        self.rows.push(Row {
            height: self.line_height(look),
            marks: vec![mark],
        });
    }

    /// A thin line across the column, with a little space around it.
    pub(crate) fn rule(&mut self) {
        self.rows.push(Row {
            height: 2.4,
            marks: vec![Mark::Rule { y: 1.2 }],
        });
    }

    /// A QR code of `payload`, centred, as wide as it reads well on the paper.
    pub(crate) fn qr(&mut self, payload: &str) -> Result<(), PrintError> {
        let matrix = QrCode::encode(payload.as_bytes(), EcLevel::M)?;
        let side = (self.width() * 0.6).clamp(24.0, 36.0);
        self.rows.push(Row {
            height: side,
            marks: vec![Mark::Qr {
                x: (self.width() - side) / 2.0,
                y: 0.0,
                side,
                matrix,
            }],
        });
        Ok(())
    }

    /// The shop logo, centred, at most 60 % of the column wide and 18 mm tall.
    pub(crate) fn logo(&mut self, logo: &Logo) {
        let aspect = logo.width() as f32 / logo.height().max(1) as f32;
        let mut height: f32 = 18.0;
        let mut width = height * aspect;
        if width > self.width() * 0.6 {
            width = self.width() * 0.6;
            height = width / aspect;
        }
        self.rows.push(Row {
            height: height + 2.0,
            marks: vec![Mark::Logo {
                x: (self.width() - width) / 2.0,
                y: 0.0,
                width,
                height,
            }],
        });
    }

    /// The PDF: one page as tall as the rows on a roll, pages of A4 otherwise.
    pub(crate) fn finish(self, title: &str, logo: Option<&Logo>) -> Result<Vec<u8>, PrintError> {
        let g = &self.geometry;
        let content: f32 = self.rows.iter().map(|r| r.height).sum();
        let page_height = g.page_height.unwrap_or(g.top + content + g.bottom);
        let mut doc = PdfDocument::new(title);
        let logo_id = logo.map(|l| doc.add_image(&l.raw_image()));
        let mut used: [BTreeSet<char>; 3] = Default::default();
        let mut pages: Vec<Vec<Op>> = vec![Vec::new()];
        let mut y = g.top;
        for row in &self.rows {
            if y + row.height > page_height - g.bottom && y > g.top + 0.01 {
                pages.push(Vec::new());
                y = g.top;
            }
            let ops = pages.last_mut().expect("one page at least");
            for mark in &row.marks {
                self.draw(ops, mark, y, page_height, logo_id.as_ref(), &mut used);
            }
            y += row.height;
        }
        let pdf_pages = pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(g.page_width), Mm(page_height), ops))
            .collect();
        save(assemble(doc, pdf_pages, &used)?)
    }

    fn draw(
        &self,
        ops: &mut Vec<Op>,
        mark: &Mark,
        row_top: f32,
        page_height: f32,
        logo_id: Option<&printpdf::XObjectId>,
        used: &mut [BTreeSet<char>; 3],
    ) {
        let left = self.geometry.left;
        let pt = |v: f32| Pt(round2(v * MM_TO_PT));
        match mark {
            Mark::Text {
                x,
                baseline,
                text,
                size_pt,
                bold,
                grey: level,
            } => {
                ops.push(Op::SetFillColor { col: grey(*level) });
                let origin = (left + x, page_height - (row_top + baseline));
                show_text(ops, self.fonts, text, *bold, origin, *size_pt, used);
            }
            Mark::Rule { y } => {
                let y = page_height - (row_top + y);
                ops.push(Op::SetOutlineColor { col: grey(0.55) });
                ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
                ops.push(Op::DrawLine {
                    line: printpdf::Line {
                        points: [left, left + self.width()]
                            .into_iter()
                            .map(|x| LinePoint {
                                p: Point { x: pt(x), y: pt(y) },
                                bezier: false,
                            })
                            .collect(),
                        is_closed: false,
                    },
                });
            }
            Mark::Qr { x, y, side, matrix } => {
                // One filled path of one rectangle per run of dark modules: no seams.
                let total = (matrix.width() + 2 * QUIET_ZONE) as f32;
                let module = side / total;
                let ox = left + x + QUIET_ZONE as f32 * module;
                let oy = row_top + y + QUIET_ZONE as f32 * module;
                let corner = |mx: f32, my: f32| LinePoint {
                    p: Point {
                        x: pt(ox + mx * module),
                        y: pt(page_height - (oy + my * module)),
                    },
                    bezier: false,
                };
                let rings = matrix
                    .runs()
                    .map(|r| {
                        let (x0, x1) = (r.x as f32, (r.x + r.len) as f32);
                        let (y0, y1) = (r.y as f32, r.y as f32 + 1.0);
                        PolygonRing {
                            points: vec![
                                corner(x0, y0),
                                corner(x1, y0),
                                corner(x1, y1),
                                corner(x0, y1),
                            ],
                        }
                    })
                    .collect();
                ops.push(Op::SetFillColor { col: grey(0.0) });
                ops.push(Op::DrawPolygon {
                    polygon: Polygon {
                        rings,
                        mode: PaintMode::Fill,
                        winding_order: WindingOrder::NonZero,
                    },
                });
            }
            Mark::Logo {
                x,
                y,
                width,
                height,
            } => {
                let Some(id) = logo_id else { return };
                // the image is a unit square: scale it to the box
                ops.push(Op::SaveGraphicsState);
                ops.push(Op::SetTransformationMatrix {
                    matrix: CurTransMat::Raw([
                        round2(width * MM_TO_PT),
                        0.0,
                        0.0,
                        round2(height * MM_TO_PT),
                        round2((left + x) * MM_TO_PT),
                        round2((page_height - (row_top + y + height)) * MM_TO_PT),
                    ]),
                });
                ops.push(Op::UseXobject {
                    id: id.clone(),
                    transform: XObjectTransform {
                        no_auto_scale: true,
                        ..Default::default()
                    },
                });
                ops.push(Op::RestoreGraphicsState);
            }
        }
    }
}
