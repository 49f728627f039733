//! Turns a [`ReportSummary`] into the printable [`ReportDoc`]: every amount formatted in the
//! shop's locale, one totals block and one daily chart per currency (never mixed), and the
//! tables by day, product, payment method, channel and post.

use shopcast_print::report::{
    Align, Bar, BarChart, Column, ReportDoc, ReportLabels, ReportPaper, Table, TotalsBlock,
};

use crate::reports::{GroupRow, ReportSummary, money};

/// The fixed words of a report in English or Simplified Chinese.
struct Words {
    title: &'static str,
    gross: &'static str,
    refunds: &'static str,
    net: &'static str,
    orders: &'static str,
    average: &'static str,
    daily: &'static str,
    by_day: &'static str,
    by_product: &'static str,
    by_method: &'static str,
    by_channel: &'static str,
    top_posts: &'static str,
    date: &'static str,
    product: &'static str,
    sku: &'static str,
    quantity: &'static str,
    method: &'static str,
    channel: &'static str,
    post: &'static str,
    currency: &'static str,
    no_sales: &'static str,
    generated: &'static str,
    page: &'static str,
    continued: &'static str,
    before_discounts: &'static str,
    discounts: &'static str,
    tax: &'static str,
    taxes: &'static str,
    rate: &'static str,
}

const EN: Words = Words {
    before_discounts: "Before discounts",
    discounts: "Discounts",
    tax: "Tax",
    taxes: "Tax per rate",
    rate: "Rate",
    title: "Sales report",
    gross: "Gross",
    refunds: "Refunds",
    net: "Net",
    orders: "Orders",
    average: "Average ticket",
    daily: "Daily sales",
    by_day: "By day",
    by_product: "By product",
    by_method: "By payment method",
    by_channel: "By channel",
    top_posts: "Top posts",
    date: "Date",
    product: "Product",
    sku: "SKU",
    quantity: "Qty",
    method: "Method",
    channel: "Channel",
    post: "Post",
    currency: "Currency",
    no_sales: "No sales in this period.",
    generated: "Generated",
    page: "Page {n} of {total}",
    continued: "(continued)",
};

const ZH: Words = Words {
    before_discounts: "折扣前",
    discounts: "折扣",
    tax: "税额",
    taxes: "按税率",
    rate: "税率",
    title: "销售报告",
    gross: "销售额",
    refunds: "退款",
    net: "净额",
    orders: "订单数",
    average: "客单价",
    daily: "每日销售",
    by_day: "按日",
    by_product: "按商品",
    by_method: "按支付方式",
    by_channel: "按渠道",
    top_posts: "热门帖子",
    date: "日期",
    product: "商品",
    sku: "SKU",
    quantity: "数量",
    method: "方式",
    channel: "渠道",
    post: "帖子",
    currency: "币种",
    no_sales: "此期间没有销售。",
    generated: "生成于",
    page: "第 {n} 页，共 {total} 页",
    continued: "（续）",
};

fn words(locale: &str) -> &'static Words {
    if locale.to_ascii_lowercase().starts_with("zh") {
        &ZH
    } else {
        &EN
    }
}

fn column(header: &str, align: Align, weight: f32) -> Column {
    Column {
        header: header.to_string(),
        align,
        weight,
    }
}

/// The channel table's rows under the names the window gives channels ("Sign", "分享链接").
fn channel_rows(rows: &[GroupRow], locale: &str) -> Vec<GroupRow> {
    let zh = locale.to_ascii_lowercase().starts_with("zh");
    rows.iter()
        .map(|row| {
            let name = match (row.key.as_str(), zh) {
                ("till", false) => "Till",
                ("till", true) => "收银台",
                ("signage", false) => "Sign",
                ("signage", true) => "标牌",
                ("post", false) => "Post",
                ("post", true) => "帖子",
                ("link", false) => "Link",
                ("link", true) => "链接",
                ("share", false) => "Shared link",
                ("share", true) => "分享链接",
                (other, _) => other,
            };
            GroupRow {
                key: name.to_string(),
                ..row.clone()
            }
        })
        .collect()
}

fn group_table(
    title: &str,
    key_header: &str,
    detail_header: Option<&str>,
    rows: &[GroupRow],
    w: &Words,
    locale: &str,
) -> Table {
    let mut columns = vec![column(key_header, Align::Left, 3.0)];
    if let Some(detail) = detail_header {
        columns.push(column(detail, Align::Left, 1.4));
    }
    columns.extend([
        column(w.quantity, Align::Right, 0.8),
        column(w.orders, Align::Right, 0.9),
        column(w.gross, Align::Right, 1.4),
        column(w.net, Align::Right, 1.4),
    ]);
    let body = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.key.clone()];
            if detail_header.is_some() {
                cells.push(r.detail.clone().unwrap_or_default());
            }
            cells.extend([
                r.quantity.to_string(),
                r.payments.to_string(),
                money(r.gross_minor, &r.currency, locale),
                money(r.net_minor, &r.currency, locale),
            ]);
            cells
        })
        .collect();
    Table {
        title: title.to_string(),
        columns,
        rows: body,
        links: Vec::new(),
    }
}

/// Builds the printable report. `post_links` maps a post id to its public URL, when known.
pub fn report_doc(
    summary: &ReportSummary,
    shop_name: &str,
    locale: &str,
    generated_at: &str,
    post_links: &dyn Fn(&str) -> Option<String>,
) -> ReportDoc {
    let w = words(locale);
    let totals = summary
        .totals
        .iter()
        .map(|t| TotalsBlock {
            currency: t.currency.clone(),
            items: vec![
                (w.gross.into(), money(t.gross_minor, &t.currency, locale)),
                (
                    w.refunds.into(),
                    money(t.refunded_minor, &t.currency, locale),
                ),
                (w.net.into(), money(t.net_minor, &t.currency, locale)),
                (w.orders.into(), t.payments.to_string()),
                (
                    w.average.into(),
                    money(t.average_minor, &t.currency, locale),
                ),
                (
                    w.before_discounts.into(),
                    money(t.before_discounts_minor, &t.currency, locale),
                ),
                (
                    w.discounts.into(),
                    money(t.discount_minor, &t.currency, locale),
                ),
                (w.tax.into(), money(t.tax_minor, &t.currency, locale)),
            ],
        })
        .collect();
    let charts = summary
        .totals
        .iter()
        .map(|t| {
            let days: Vec<_> = summary
                .by_day
                .iter()
                .filter(|d| d.currency == t.currency)
                .collect();
            let max = days.iter().map(|d| d.net_minor.max(0)).max().unwrap_or(0);
            BarChart {
                title: format!("{} · {}", w.daily, t.currency),
                bars: days
                    .iter()
                    .map(|d| Bar {
                        label: d.date.get(5..).unwrap_or(&d.date).to_string(),
                        value: d.net_minor.max(0),
                        value_text: money(d.net_minor, &d.currency, locale),
                    })
                    .collect(),
                axis_max_text: money(max, &t.currency, locale),
            }
        })
        .collect();
    let by_day = Table {
        title: w.by_day.into(),
        columns: vec![
            column(w.date, Align::Left, 1.4),
            column(w.currency, Align::Left, 0.8),
            column(w.orders, Align::Right, 0.9),
            column(w.gross, Align::Right, 1.4),
            column(w.refunds, Align::Right, 1.4),
            column(w.net, Align::Right, 1.4),
        ],
        rows: summary
            .by_day
            .iter()
            .filter(|d| d.payments > 0)
            .map(|d| {
                vec![
                    d.date.clone(),
                    d.currency.clone(),
                    d.payments.to_string(),
                    money(d.gross_minor, &d.currency, locale),
                    money(d.refunded_minor, &d.currency, locale),
                    money(d.net_minor, &d.currency, locale),
                ]
            })
            .collect(),
        links: Vec::new(),
    };
    let mut posts = group_table(w.top_posts, w.post, None, &summary.top_posts, w, locale);
    posts.links = summary
        .top_posts
        .iter()
        .map(|p| post_links(&p.key))
        .collect();
    let taxes = Table {
        title: w.taxes.into(),
        columns: vec![
            column(w.rate, Align::Left, 2.0),
            column(w.currency, Align::Left, 0.8),
            column(w.gross, Align::Right, 1.4),
            column(w.tax, Align::Right, 1.4),
        ],
        rows: summary
            .taxes
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.currency.clone(),
                    money(t.gross_minor, &t.currency, locale),
                    money(t.tax_minor, &t.currency, locale),
                ]
            })
            .collect(),
        links: Vec::new(),
    };
    let sections = vec![
        by_day,
        taxes,
        group_table(
            w.by_product,
            w.product,
            Some(w.sku),
            &summary.by_product,
            w,
            locale,
        ),
        group_table(w.by_method, w.method, None, &summary.by_method, w, locale),
        group_table(
            w.by_channel,
            w.channel,
            None,
            &channel_rows(&summary.by_channel, locale),
            w,
            locale,
        ),
        posts,
    ];
    ReportDoc {
        title: w.title.into(),
        shop_name: shop_name.into(),
        period: format!("{} – {} ({})", summary.from, summary.to, summary.timezone),
        generated_at: format!("{} {generated_at}", w.generated),
        paper: ReportPaper::A4,
        totals,
        charts,
        sections: sections
            .into_iter()
            .filter(|t| !t.rows.is_empty())
            .collect(),
        empty_message: summary.totals.is_empty().then(|| w.no_sales.to_string()),
        labels: ReportLabels {
            page_number: w.page.into(),
            continued: w.continued.into(),
        },
    }
}
