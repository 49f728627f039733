//! Many seeded pseudo-random payloads of every standard, checked here for their own
//! invariants and, when `SHOPCAST_PAYLOADS_OUT` names a file, written there as JSON for the
//! independent Python checks in `tests/payloads/check_payloads.py` (see `tests/payloads/run.sh`).
//!
//! The test data (IBANs, CPFs, CNPJs, creditor references) is made here with this file's
//! own check-digit code, not the crate's.

use serde_json::{Value, json};
use shopcast_payments::crc16_ccitt_false;
use shopcast_payments::static_qr::emvco::{
    self, AdditionalData, LanguageTemplate, MerchantAccount, MerchantPresented, PointOfInitiation,
};
use shopcast_payments::static_qr::epc::{self, CharacterSet, CreditTransfer, Remittance, Version};
use shopcast_payments::static_qr::pix::{PixCharge, PixKey};
use shopcast_payments::static_qr::upi::{self, UpiPayment};
use shopcast_payments::static_qr::{Currency, iban};

const SEED: u64 = 0x5EED_0F51_40C4_5700;
const PER_STANDARD: usize = 250;

/// SplitMix64: small, seeded, good enough to spread test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn string_from(&mut self, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..len).map(|_| *self.pick(&chars)).collect()
    }
    fn string_between(&mut self, alphabet: &str, lo: usize, hi: usize) -> String {
        let len = self.range(lo, hi);
        self.string_from(alphabet, len)
    }
    fn text(&mut self, words: &[&str], max_chars: usize) -> String {
        let mut out = String::new();
        let target = self.range(1, max_chars);
        loop {
            let w = *self.pick(words);
            let sep = if out.is_empty() { "" } else { " " };
            if out.chars().count() + sep.len() + w.chars().count() > target {
                break;
            }
            out.push_str(sep);
            out.push_str(w);
        }
        if out.is_empty() {
            out = self.pick(words).chars().take(max_chars).collect();
        }
        out
    }
    /// Amount in minor units, spread over orders of magnitude up to `max`.
    fn amount(&mut self, max: i64) -> i64 {
        let digits = self.range(1, max.to_string().len());
        let bound = 10i64.saturating_pow(digits as u32).min(max);
        1 + self.below(bound as u64) as i64
    }
}

const DIGITS: &str = "0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const ANS: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

const LATIN1_WORDS: &[&str] = &[
    "Bäckerei",
    "Müller",
    "Café",
    "Señor",
    "Øster",
    "Ångström",
    "Façade",
    "Größe",
    "Rechnung",
    "Nr.",
    "4711",
    "Spende",
    "für",
    "Crème",
    "brûlée",
    "Þór",
    "Ærø",
    "Miñón",
    "d'Arc",
    "S.A.",
    "GmbH",
    "&",
    "Co.",
    "KG",
    "Zoë",
    "½",
    "«bio»",
    "Ölmühle",
    "Straße",
];
const UNICODE_WORDS: &[&str] = &[
    "Łódź",
    "Čokoláda",
    "Ελλάδα",
    "茶馆",
    "Ďakujem",
    "Šťastný",
    "€",
    "Žalgiris",
    "Őrség",
    "Спасибо",
    "ქართული",
    "łąka",
    "Škoda",
    "Ąžuolas",
    "Ўзбек",
    "Café",
    "Müller",
];
const ANS_WORDS: &[&str] = &[
    "Loja",
    "do",
    "Ze",
    "Padaria",
    "Tea",
    "Shop",
    "Corner",
    "Market",
    "&",
    "Co.",
    "#12",
    "50%",
    "A/B",
    "(Main)",
    "Store",
    "Kiosk",
    "O'Brien",
    "Fish-Chips",
    "*",
    "Bar",
    "Cafe",
    "Sao",
    "Rio",
];
const HINDI_WORDS: &[&str] = &[
    "चाय",
    "वाला",
    "दुकान",
    "Chai",
    "Point",
    "&",
    "Sons",
    "+",
    "=",
    "%",
    "#1",
    "Ltd.",
];

/// Test-local BBAN layouts (country, BBAN groups as (count, kind)); kind n/a/c.
const BBANS: &[(&str, &[(usize, char)])] = &[
    ("DE", &[(8, 'n'), (10, 'n')]),
    ("AT", &[(5, 'n'), (11, 'n')]),
    ("BE", &[(3, 'n'), (7, 'n'), (2, 'n')]),
    ("FR", &[(5, 'n'), (5, 'n'), (11, 'c'), (2, 'n')]),
    ("NL", &[(4, 'a'), (10, 'n')]),
    ("IT", &[(1, 'a'), (5, 'n'), (5, 'n'), (12, 'c')]),
    ("ES", &[(4, 'n'), (4, 'n'), (1, 'n'), (1, 'n'), (10, 'n')]),
    ("FI", &[(3, 'n'), (11, 'n')]),
    ("IE", &[(4, 'a'), (6, 'n'), (8, 'n')]),
    ("LU", &[(3, 'n'), (13, 'c')]),
    ("PT", &[(4, 'n'), (4, 'n'), (11, 'n'), (2, 'n')]),
    ("MT", &[(4, 'a'), (5, 'n'), (18, 'c')]),
    ("NO", &[(4, 'n'), (6, 'n'), (1, 'n')]),
    ("CH", &[(5, 'n'), (12, 'c')]),
    ("GB", &[(4, 'a'), (6, 'n'), (8, 'n')]),
];

/// ISO 7064 mod 97-10 of `s` (letters as 10–35), computed digit by digit.
fn mod97_local(s: &str) -> u64 {
    let mut expanded = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            expanded.push(c);
        } else {
            expanded.push_str(&(c as u64 - 'A' as u64 + 10).to_string());
        }
    }
    expanded
        .chars()
        .fold(0, |rem, d| (rem * 10 + d.to_digit(10).unwrap() as u64) % 97)
}

fn make_iban(rng: &mut Rng) -> (String, bool) {
    let (country, groups) = rng.pick(BBANS);
    let mut bban = String::new();
    for &(count, kind) in *groups {
        let alphabet = match kind {
            'n' => DIGITS,
            'a' => UPPER,
            _ => ALNUM,
        };
        bban.push_str(&rng.string_from(alphabet, count));
    }
    let check = 98 - mod97_local(&format!("{bban}{country}00"));
    let eea = !matches!(*country, "CH" | "GB");
    (format!("{country}{check:02}{bban}"), eea)
}

fn make_creditor_reference(rng: &mut Rng) -> String {
    let body = rng.string_between(ALNUM, 1, 21);
    let check = 98 - mod97_local(&format!("{body}RF00"));
    format!("RF{check:02}{body}")
}

fn mod11(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    if sum % 11 < 2 { 0 } else { 11 - sum % 11 }
}

fn make_cpf(rng: &mut Rng) -> String {
    loop {
        let base = rng.string_from(DIGITS, 9);
        let mut d: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap()).collect();
        if d.iter().all(|&x| x == d[0]) {
            continue;
        }
        d.push(mod11(&d, &[10, 9, 8, 7, 6, 5, 4, 3, 2]));
        d.push(mod11(&d, &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]));
        return d.iter().map(|x| x.to_string()).collect();
    }
}

fn make_cnpj(rng: &mut Rng, alphanumeric: bool) -> String {
    let base = if alphanumeric {
        rng.string_from(ALNUM, 8) + &rng.string_from(DIGITS, 4)
    } else {
        rng.string_from(DIGITS, 12)
    };
    let mut v: Vec<u32> = base.bytes().map(|b| u32::from(b) - 48).collect();
    v.push(mod11(&v, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]));
    v.push(mod11(&v, &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]));
    format!("{base}{}{}", v[12], v[13])
}

fn make_uuid(rng: &mut Rng) -> String {
    let hex = "0123456789abcdef";
    format!(
        "{}-{}-{}-{}-{}",
        rng.string_from(hex, 8),
        rng.string_from(hex, 4),
        rng.string_from(hex, 4),
        rng.string_from(hex, 4),
        rng.string_from(hex, 12)
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

fn epc_cases(rng: &mut Rng, out: &mut Vec<Value>) {
    let mut made = 0;
    while made < PER_STANDARD {
        let latin1 = rng.chance(50);
        let words = if latin1 { LATIN1_WORDS } else { UNICODE_WORDS };
        let (iban_text, eea) = make_iban(rng);
        let version = if rng.chance(30) {
            Version::V001
        } else {
            Version::V002
        };
        let bic = (version == Version::V001 || !eea || rng.chance(50)).then(|| {
            let country = &iban_text[..2];
            let branch = if rng.chance(50) {
                rng.string_from(ALNUM, 3)
            } else {
                String::new()
            };
            format!(
                "{}{country}{}{branch}",
                rng.string_from(UPPER, 4),
                rng.string_from(ALNUM, 2)
            )
        });
        let remittance = match rng.below(3) {
            0 => Remittance::None,
            1 => Remittance::Reference(make_creditor_reference(rng)),
            _ => Remittance::Text(rng.text(words, 60)),
        };
        let transfer = CreditTransfer {
            version,
            character_set: if latin1 {
                CharacterSet::Latin1
            } else {
                CharacterSet::Utf8
            },
            bic: bic.clone(),
            name: rng.text(words, 40),
            iban: if rng.chance(50) {
                iban::to_print_form(&iban_text)
            } else {
                iban_text.clone()
            },
            amount_minor: rng.chance(70).then(|| rng.amount(epc::MAX_AMOUNT_MINOR)),
            purpose: rng.chance(30).then(|| {
                rng.pick(&["CHAR", "GDDS", "SUPP", "RENT", "OTHR"])
                    .to_string()
            }),
            remittance: remittance.clone(),
            information: rng.chance(30).then(|| rng.text(words, 30)),
        };
        let payload = match transfer.to_payload() {
            Ok(p) => p,
            Err(e) if e.code() == "payload_too_long" => continue,
            Err(e) => panic!("{transfer:?}: {e}"),
        };
        // Own invariants: size, no trailing LF, round trip, the IBAN and charset as asked.
        assert!(payload.len() <= epc::MAX_PAYLOAD_BYTES);
        assert_ne!(payload.last(), Some(&b'\n'));
        assert_eq!(epc::parse(&payload).unwrap().iban, iban_text);
        let (reference, text) = match &remittance {
            Remittance::None => (None, None),
            Remittance::Reference(r) => (Some(r.clone()), None),
            Remittance::Text(t) => (None, Some(t.clone())),
        };
        out.push(json!({
            "standard": "epc",
            "payload_hex": hex(&payload),
            "expect": {
                "version": if version == Version::V001 { "001" } else { "002" },
                "character_set": if latin1 { 2 } else { 1 },
                "bic": opt(&bic),
                "name": transfer.name,
                "iban": iban_text,
                "amount_minor": transfer.amount_minor,
                "purpose": opt(&transfer.purpose),
                "reference": opt(&reference),
                "text": opt(&text),
                "information": opt(&transfer.information),
            }
        }));
        made += 1;
    }
}

fn emvco_cases(rng: &mut Rng, out: &mut Vec<Value>) {
    let currencies = [
        "BRL", "CNY", "EUR", "USD", "INR", "JPY", "KWD", "SGD", "THB", "MXN", "KRW", "BHD",
    ];
    let countries = [
        "BR", "CN", "DE", "US", "IN", "JP", "KW", "SG", "TH", "MX", "KR", "BH",
    ];
    for _ in 0..PER_STANDARD {
        let mut ids: Vec<u8> = Vec::new();
        let mut accounts = Vec::new();
        for _ in 0..rng.range(1, 3) {
            let id = if rng.chance(25) {
                rng.range(2, 25) as u8
            } else {
                rng.range(26, 51) as u8
            };
            if ids.contains(&id) {
                continue;
            }
            ids.push(id);
            if id <= 25 {
                accounts.push(MerchantAccount::Primitive {
                    id,
                    value: rng.string_between(DIGITS, 8, 19),
                });
            } else {
                let gui = match rng.below(3) {
                    0 => format!(
                        "com.{}.pay",
                        rng.string_between("abcdefghijklmnopqrstuvwxyz", 3, 10)
                    ),
                    1 => format!("A000000{}", rng.string_from(DIGITS, 3)),
                    _ => make_uuid(rng).replace('-', ""),
                };
                let mut fields = Vec::new();
                for sub in 1..=rng.range(0, 3) as u8 {
                    fields.push((sub, rng.string_between(ANS, 1, 15)));
                }
                accounts.push(MerchantAccount::Template { id, gui, fields });
            }
        }
        let idx = rng.below(currencies.len() as u64) as usize;
        let currency = Currency::from_code(currencies[idx]).unwrap();
        let max = if currency.minor_digits == 0 {
            9_999_999_999_999
        } else {
            999_999_999_999
        };
        let language = rng.chance(30).then(|| LanguageTemplate {
            language: rng.pick(&["zh", "ja", "th", "ko", "ar"]).to_string(),
            name: rng.text(
                &["街角", "茶馆", "ร้าน", "กาแฟ", "喫茶", "店", "가게", "مقهى"],
                25,
            ),
            city: rng.chance(50).then(|| {
                rng.pick(&["上海", "東京", "กรุงเทพ", "서울", "الكويت"])
                    .to_string()
            }),
        });
        let code = MerchantPresented {
            initiation: match rng.below(3) {
                0 => None,
                1 => Some(PointOfInitiation::Static),
                _ => Some(PointOfInitiation::Dynamic),
            },
            merchant_accounts: accounts,
            merchant_category_code: rng.string_from(DIGITS, 4),
            currency: if rng.chance(50) {
                currency.code.to_string()
            } else {
                currency.numeric_code()
            },
            amount_minor: rng.chance(60).then(|| rng.amount(max)),
            country_code: countries[idx].to_string(),
            merchant_name: format!("x{}", rng.string_between(ANS, 0, 24)),
            merchant_city: rng.text(ANS_WORDS, 15),
            postal_code: rng.chance(30).then(|| rng.string_between(ALNUM, 3, 10)),
            additional_data: AdditionalData {
                bill_number: rng.chance(30).then(|| rng.string_between(ALNUM, 1, 25)),
                store_label: rng.chance(30).then(|| rng.text(ANS_WORDS, 25)),
                reference_label: rng.chance(50).then(|| rng.string_between(ALNUM, 1, 25)),
                terminal_label: rng.chance(30).then(|| rng.string_between(ALNUM, 1, 8)),
                ..AdditionalData::default()
            },
            language,
        };
        let payload = code
            .to_payload()
            .unwrap_or_else(|e| panic!("{code:?}: {e}"));
        let objects = emvco::parse(&payload).unwrap();
        assert_eq!(objects.first().unwrap().id, 0);
        assert_eq!(objects.last().unwrap().id, 63);
        // Ascending IDs, then the CRC (63) last even after 64.
        let body = &objects[..objects.len() - 1];
        assert!(body.windows(2).all(|w| w[0].id < w[1].id));
        out.push(json!({
            "standard": "emvco",
            "payload": payload,
            "expect": {
                "currency": currency.code,
                "currency_numeric": currency.numeric_code(),
                "amount_minor": code.amount_minor,
                "country": code.country_code,
                "name": code.merchant_name,
                "city": code.merchant_city,
                "mcc": code.merchant_category_code,
                "language_name": code.language.as_ref().map(|l| l.name.clone()),
            }
        }));
    }
}

fn pix_cases(rng: &mut Rng, out: &mut Vec<Value>) {
    for _ in 0..PER_STANDARD {
        let (kind, key) = match rng.below(6) {
            0 => ("cpf", make_cpf(rng)),
            1 => ("cnpj", make_cnpj(rng, false)),
            2 => ("cnpj", make_cnpj(rng, true)),
            3 => (
                "email",
                format!(
                    "{}@{}.com.br",
                    rng.string_between(LOWER_ALNUM, 1, 20),
                    rng.string_between(LOWER_ALNUM, 2, 12)
                ),
            ),
            4 => (
                "phone",
                format!(
                    "+55{}{}9{}",
                    rng.range(1, 9),
                    rng.range(1, 9),
                    rng.string_from(DIGITS, 8)
                ),
            ),
            _ => ("evp", make_uuid(rng)),
        };
        let charge = PixCharge {
            key: key.clone(),
            name: rng.text(ANS_WORDS, 25),
            city: rng.text(ANS_WORDS, 15),
            amount_minor: rng.chance(60).then(|| rng.amount(999_999_999_999)),
            txid: rng.chance(60).then(|| rng.string_between(ALNUM, 1, 25)),
            description: rng.chance(30).then(|| rng.text(ANS_WORDS, 20)),
        };
        let payload = charge
            .to_payload()
            .unwrap_or_else(|e| panic!("{charge:?}: {e}"));
        assert_eq!(PixKey::parse(&key).unwrap().as_str(), key);
        let objects = emvco::parse(&payload).unwrap();
        assert!(objects.iter().any(|o| o.id == 26 && o.value.contains(&key)));
        out.push(json!({
            "standard": "pix",
            "payload": payload,
            "expect": {
                "key_kind": kind,
                "key": key,
                "name": charge.name,
                "city": charge.city,
                "amount_minor": charge.amount_minor,
                "txid": charge.txid.clone().unwrap_or_else(|| "***".into()),
                "description": opt(&charge.description),
            }
        }));
    }
}

fn upi_cases(rng: &mut Rng, out: &mut Vec<Value>) {
    for _ in 0..PER_STANDARD {
        let vpa = format!(
            "{}@{}",
            rng.string_between("abcdefghijklmnopqrstuvwxyz0123456789.-_", 2, 30),
            rng.pick(&[
                "okaxis",
                "ybl",
                "paytm",
                "upi",
                "oksbi",
                "ibl",
                "axl",
                "okhdfcbank"
            ])
        );
        let payment = UpiPayment {
            vpa,
            name: rng.text(HINDI_WORDS, 40),
            amount_minor: rng.chance(60).then(|| rng.amount(upi::MAX_AMOUNT_MINOR)),
            note: rng.chance(50).then(|| rng.text(HINDI_WORDS, 80)),
            reference: rng
                .chance(50)
                .then(|| rng.string_between("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/#", 1, 35)),
        };
        let link = payment
            .to_payload()
            .unwrap_or_else(|e| panic!("{payment:?}: {e}"));
        assert_eq!(upi::parse(&link).unwrap(), payment);
        out.push(json!({
            "standard": "upi",
            "payload": link,
            "expect": {
                "pa": payment.vpa,
                "pn": payment.name,
                "amount_minor": payment.amount_minor,
                "tn": opt(&payment.note),
                "tr": opt(&payment.reference),
            }
        }));
    }
}

/// Inputs this crate refuses, for the Python side to confirm as invalid independently.
fn rejections(rng: &mut Rng, out: &mut Vec<Value>) {
    for _ in 0..50 {
        // One digit of a valid IBAN changed: always caught by mod 97.
        let (valid, _) = make_iban(rng);
        let digit_positions: Vec<usize> = valid
            .char_indices()
            .skip(4)
            .filter(|(_, c)| c.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        let pos = *rng.pick(&digit_positions);
        let old = valid.as_bytes()[pos];
        let new = b'0' + ((old - b'0') + 1 + rng.below(9) as u8) % 10;
        let mut bad = valid.into_bytes();
        bad[pos] = new;
        let bad = String::from_utf8(bad).unwrap();
        let err = iban::validate(&bad).unwrap_err();
        assert_eq!(err.code(), "iban_checksum", "{bad}");
        out.push(json!({"kind": "iban", "value": bad, "code": err.code()}));

        let cpf = make_cpf(rng);
        let bad_cpf = format!("{}{}", &cpf[..10], (cpf.as_bytes()[10] - b'0' + 1) % 10);
        let err = PixKey::parse(&bad_cpf).unwrap_err();
        assert_eq!(err.code(), "cpf_check_digits");
        out.push(json!({"kind": "cpf", "value": bad_cpf, "code": err.code()}));

        let alphanumeric = rng.chance(50);
        let cnpj = make_cnpj(rng, alphanumeric);
        let bad_cnpj = format!("{}{}", &cnpj[..13], (cnpj.as_bytes()[13] - b'0' + 1) % 10);
        let err = PixKey::parse(&bad_cnpj).unwrap_err();
        assert_eq!(err.code(), "cnpj_check_digits");
        out.push(json!({"kind": "cnpj", "value": bad_cnpj, "code": err.code()}));

        let reference = make_creditor_reference(rng);
        let bad_ref = format!(
            "RF{:02}{}",
            (reference[2..4].parse::<u32>().unwrap() + 1) % 100,
            &reference[4..]
        );
        let err = epc::validate_creditor_reference(&bad_ref).unwrap_err();
        out.push(json!({"kind": "creditor_reference", "value": bad_ref, "code": err.code()}));
    }
}

#[test]
fn generated_payloads() {
    let mut rng = Rng(SEED);
    let mut payloads = Vec::new();
    epc_cases(&mut rng, &mut payloads);
    emvco_cases(&mut rng, &mut payloads);
    pix_cases(&mut rng, &mut payloads);
    upi_cases(&mut rng, &mut payloads);
    let mut rejected = Vec::new();
    rejections(&mut rng, &mut rejected);
    assert_eq!(payloads.len(), 4 * PER_STANDARD);

    // Every EMVCo/Pix CRC re-checked over the UTF-8 bytes.
    for p in &payloads {
        if let Some(text) = p["payload"].as_str().filter(|_| p["standard"] != "upi") {
            let (body, crc) = text.split_at(text.len() - 4);
            assert_eq!(format!("{:04X}", crc16_ccitt_false(body.as_bytes())), crc);
        }
    }

    if let Some(path) = std::env::var_os("SHOPCAST_PAYLOADS_OUT") {
        let doc = json!({ "seed": SEED, "payloads": payloads, "rejected": rejected });
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap())
            .unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }
}
