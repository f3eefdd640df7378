//! Numbers and words for people, in English or French: `€1,234.56` or
//! `1 234,56 €`.

use strata_domain::money::Amount;

/// The report's language.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    /// `en` or `fr`.
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The language of a locale such as `fr_FR.UTF-8`; English unless French.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    /// The language of the environment (`LC_ALL`, `LC_MESSAGES`, then `LANG`).
    pub fn from_env() -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
        Lang::from_locale(locale.as_deref())
    }

    /// The HTML `lang` code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Picks the English or the French text.
    pub fn pick(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }
}

const NARROW_NBSP: &str = "\u{202f}";
const NBSP: &str = "\u{a0}";

fn group(mut n: u128, separator: &str) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = groups.pop().map_or_else(String::new, |g| g.to_string());
    while let Some(g) = groups.pop() {
        out.push_str(separator);
        out.push_str(&format!("{g:03}"));
    }
    out
}

/// A whole number with grouped thousands.
pub fn count(n: u64, lang: Lang) -> String {
    group(u128::from(n), lang.pick(",", NARROW_NBSP))
}

/// A number with two decimals, rounded half away from zero.
pub fn decimal(amount: Amount, lang: Lang) -> String {
    let raw = i128::from(amount.raw());
    let cents = (raw.abs() + 50) / 100;
    let sign = if raw < 0 && cents != 0 { "-" } else { "" };
    let (int_part, frac) = (cents / 100, cents % 100);
    let (thousands, point) = match lang {
        Lang::En => (",", "."),
        Lang::Fr => (NARROW_NBSP, ","),
    };
    format!(
        "{sign}{}{point}{frac:02}",
        group(int_part as u128, thousands)
    )
}

fn symbol(currency: &str) -> &str {
    match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "CHF" => "CHF",
        other => other,
    }
}

/// An amount of money: `€1,234.56` in English, `1 234,56 €` in French.
pub fn money(amount: Amount, currency: &str, lang: Lang) -> String {
    let number = decimal(amount, lang);
    match lang {
        Lang::Fr => format!("{number}{NBSP}{}", symbol(currency)),
        Lang::En => match number.strip_prefix('-') {
            Some(positive) => format!("-{}{positive}", symbol(currency)),
            None => format!("{}{number}", symbol(currency)),
        },
    }
}

/// A share as a percentage with one decimal: `12.3%` or `12,3 %`.
pub fn percent(part: f64, whole: f64, lang: Lang) -> String {
    if whole == 0.0 {
        return "–".to_owned();
    }
    let value = format!("{:.1}", part / whole * 100.0);
    match lang {
        Lang::En => format!("{value}%"),
        Lang::Fr => format!("{}{NBSP}%", value.replace('.', ",")),
    }
}

/// An exact amount, every decimal kept, thousands grouped by a narrow
/// space: `123 456.7891` in English, `123 456,7891` in French. For the
/// terminal's summaries and explanations, where rounding would hide why.
pub fn exact(amount: Amount, lang: Lang) -> String {
    let text = amount.to_string();
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (int_part, frac) = digits
        .split_once('.')
        .map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut out = String::from(sign);
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push_str(NARROW_NBSP);
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push_str(lang.pick(".", ","));
        out.push_str(frac);
    }
    out
}

/// A segment's name for people: the built-in RFM segments (`builtin`) have
/// a label in each language, while files keep their stable names; other
/// segments keep the name the configuration gives them.
pub fn segment_label(name: &str, builtin: bool, lang: Lang) -> String {
    let label = match (builtin, name) {
        (false, _) => None,
        (true, "champions") => Some(("Champions", "Champions")),
        (true, "loyal") => Some(("Loyal", "Fidèles")),
        (true, "potential_loyalist") => Some(("Potential loyalists", "Fidèles potentiels")),
        (true, "new_customers") => Some(("New customers", "Nouveaux clients")),
        (true, "promising") => Some(("Promising", "Prometteurs")),
        (true, "need_attention") => Some(("Need attention", "À surveiller")),
        (true, "about_to_sleep") => Some(("About to sleep", "En train de s'endormir")),
        (true, "cant_lose") => Some(("Can't lose them", "À ne pas perdre")),
        (true, "at_risk") => Some(("At risk", "À risque")),
        (true, "hibernating") => Some(("Hibernating", "En hibernation")),
        (true, _) => None,
    };
    label.map_or_else(|| name.to_owned(), |(en, fr)| lang.pick(en, fr).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_amounts_keep_every_decimal() {
        let cases = [
            (0, Lang::En, "0"),
            (1_234_567_891, Lang::En, "123\u{202f}456.7891"),
            (1_234_567_891, Lang::Fr, "123\u{202f}456,7891"),
            (-10_000_000, Lang::En, "-1\u{202f}000"),
            (9_990_000, Lang::En, "999"),
        ];
        for (raw, lang, text) in cases {
            assert_eq!(exact(Amount(raw), lang), text);
        }
    }

    #[test]
    fn every_built_in_rfm_segment_has_a_label_in_each_language() {
        for name in strata_domain::segment_type::DEFAULT_RFM_SEGMENTS {
            for lang in [Lang::En, Lang::Fr] {
                assert_ne!(segment_label(name, true, lang), name, "{name}");
            }
        }
        assert_eq!(segment_label("at_risk", true, Lang::Fr), "À risque");
        assert_eq!(segment_label("at_risk", false, Lang::Fr), "at_risk");
        assert_eq!(segment_label("A", true, Lang::Fr), "A");
    }

    #[test]
    fn money_per_language() {
        let a =
            Amount::parse("1234.567", false, strata_domain::money::ExtraDigits::Reject).unwrap();
        assert_eq!(money(a, "EUR", Lang::Fr), "1\u{202f}234,57\u{a0}€");
        assert_eq!(money(a, "EUR", Lang::En), "€1,234.57");
        assert_eq!(money(Amount::from_units(-5), "USD", Lang::En), "-$5.00");
        assert_eq!(money(Amount(-1), "EUR", Lang::En), "€0.00");
        assert_eq!(
            decimal(Amount::from_units(1_000_000), Lang::En),
            "1,000,000.00"
        );
    }

    #[test]
    fn counts_and_percents() {
        assert_eq!(count(1_234_567, Lang::En), "1,234,567");
        assert_eq!(count(999, Lang::Fr), "999");
        assert_eq!(percent(1.0, 8.0, Lang::Fr), "12,5\u{a0}%");
        assert_eq!(percent(1.0, 8.0, Lang::En), "12.5%");
        assert_eq!(percent(1.0, 0.0, Lang::En), "–");
    }

    #[test]
    fn language_from_locale() {
        assert_eq!(Lang::from_locale(Some("fr_FR.UTF-8")), Lang::Fr);
        assert_eq!(Lang::from_locale(Some("C.UTF-8")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
    }
}
