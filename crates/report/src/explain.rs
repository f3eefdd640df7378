//! An explanation in words, English or French: the one place where the
//! data of `strata_engine::inspect::explain` becomes sentences, for the
//! terminal today and the web pages later.

use crate::format::{exact, Lang};
use strata_domain::classify::Source;
use strata_domain::money::Amount;
use strata_domain::rules::eval::Truth;
use strata_engine::inspect::{Reason, Share, TypeExplanation};

fn source(source: Source, lang: Lang) -> &'static str {
    match source {
        Source::Computed => lang.pick("computed", "calculé"),
        Source::Default => lang.pick("default", "par défaut"),
        Source::Manual => lang.pick("manual", "manuel"),
        Source::Include => lang.pick("include list", "liste d'inclusion"),
    }
}

fn truth(truth: Truth, lang: Lang) -> &'static str {
    match truth {
        Truth::True => lang.pick("true", "vrai"),
        Truth::False => lang.pick("false", "faux"),
        Truth::Unknown => lang.pick("unknown", "inconnu"),
    }
}

/// The heading of a type's explanation: its name, method and segments.
pub fn heading(e: &TypeExplanation, lang: Lang) -> String {
    let segments = if e.rows.is_empty() {
        lang.pick("no segment", "aucun segment").to_owned()
    } else {
        e.rows
            .iter()
            .map(|r| r.segment.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} ({}): {segments}", e.type_name, e.method)
}

/// The reasons of a type's explanation, one line each.
pub fn lines(e: &TypeExplanation, lang: Lang) -> Vec<String> {
    let mut lines = Vec::new();
    let none = lang.pick("none", "aucun");
    if let Some(w) = e.window {
        lines.push(format!(
            "{} {} .. {}",
            lang.pick("window", "période"),
            w.first,
            w.last
        ));
    }
    for row in &e.rows {
        lines.push(format!(
            "{}: {} {}, {} {}, {} {}",
            row.segment,
            lang.pick("source", "origine"),
            source(row.source, lang),
            lang.pick("computed", "calculé"),
            row.computed.as_deref().unwrap_or(none),
            lang.pick("manual", "manuel"),
            row.manual.as_deref().unwrap_or(none),
        ));
    }
    match &e.reason {
        Reason::Pareto {
            eligible_sales,
            share_before,
            tiers,
            min_sales,
        } => {
            match (eligible_sales, share_before) {
                (Some(sales), Some(Share::Printed(share))) => lines.push(match lang {
                    Lang::En => format!(
                        "eligible sales {}; customers with greater sales make {share} of T",
                        exact(*sales, lang)
                    ),
                    Lang::Fr => format!(
                        "ventes éligibles {} ; les clients aux ventes supérieures font {} de T",
                        exact(*sales, lang),
                        share.replace('.', ",")
                    ),
                }),
                (Some(sales), Some(Share::Exact(f))) => lines.push(match lang {
                    Lang::En => format!(
                        "eligible sales {}; customers with greater sales make {} of T = {} ({})",
                        exact(*sales, lang), exact(f.part, lang), exact(f.whole, lang), f
                    ),
                    Lang::Fr => format!(
                        "ventes éligibles {} ; les clients aux ventes supérieures font {} sur T = {} ({})",
                        exact(*sales, lang), exact(f.part, lang), exact(f.whole, lang),
                        f.to_string().replace('.', ",")
                    ),
                }),
                (Some(sales), None) => lines.push(format!(
                    "{} {}: {}",
                    lang.pick("eligible sales", "ventes éligibles"),
                    exact(*sales, lang),
                    lang.pick("not ranked", "non classé")
                )),
                (None, _) => lines.push(
                    lang.pick(
                        "no segment: no eligible sales in the window and no default tier",
                        "aucun segment : pas de ventes éligibles sur la période ni de niveau par défaut",
                    )
                    .to_owned(),
                ),
            }
            let tiers: Vec<String> = tiers
                .iter()
                .map(|(name, c)| match lang {
                    Lang::En => format!("{name} while before / T < {c} %"),
                    Lang::Fr => format!(
                        "{name} tant que avant / T < {} %",
                        c.to_string().replace('.', ",")
                    ),
                })
                .collect();
            lines.push(format!(
                "{}: {}",
                lang.pick("tiers", "niveaux"),
                tiers.join(", ")
            ));
            if *min_sales > Amount::ZERO {
                lines.push(format!(
                    "{} = {} {}",
                    lang.pick("customers below min_sales", "les clients sous min_sales"),
                    exact(*min_sales, lang),
                    lang.pick("are not ranked", "ne sont pas classés")
                ));
            }
        }
        Reason::Rfm {
            score: Some(s),
            fixed,
        } => {
            lines.push(match lang {
                Lang::En => format!(
                    "recency {} days, frequency {} orders, monetary {} -> R {} F {} M {}",
                    s.recency_days,
                    s.frequency,
                    exact(s.monetary, lang),
                    s.r,
                    s.f,
                    s.m
                ),
                Lang::Fr => format!(
                    "récence {} jours, fréquence {} commandes, montant {} -> R {} F {} M {}",
                    s.recency_days,
                    s.frequency,
                    exact(s.monetary, lang),
                    s.r,
                    s.f,
                    s.m
                ),
            });
            let how = |fixed: bool| {
                if fixed {
                    lang.pick("fixed thresholds", "seuils fixes")
                } else {
                    lang.pick(
                        "quantiles of the scored customers",
                        "quantiles des clients notés",
                    )
                }
            };
            lines.push(format!(
                "{}: R {}, F {}, M {}",
                lang.pick("scores from", "notes par"),
                how(fixed[0]),
                how(fixed[1]),
                how(fixed[2])
            ));
        }
        Reason::Rfm { score: None, .. } => lines.push(
            lang.pick(
                "no positive order in the window: not scored",
                "aucune commande positive sur la période : non noté",
            )
            .to_owned(),
        ),
        Reason::Rules {
            considered,
            segments,
        } => {
            if !considered {
                lines.push(
                    lang.pick(
                        "no line of the type's agencies and brands, and no such agency in the customers file: no rule applies",
                        "aucune ligne des agences et marques du type, ni une de ces agences dans le fichier clients : aucune règle ne s'applique",
                    )
                    .to_owned(),
                );
            }
            for s in segments {
                if s.excluded {
                    lines.push(format!(
                        "{}: {}",
                        s.segment,
                        lang.pick("on the exclude list", "sur la liste d'exclusion")
                    ));
                } else if s.included {
                    lines.push(format!(
                        "{}: {}",
                        s.segment,
                        lang.pick("on the include list", "sur la liste d'inclusion")
                    ));
                }
                if let Some((rule, t, clauses)) = &s.rule {
                    let is = lang.pick("is", "est");
                    lines.push(format!("{}: {rule} {is} {}", s.segment, truth(*t, lang)));
                    for c in clauses {
                        lines.push(format!(
                            "    {} ({}) {is} {}",
                            c.condition,
                            c.value,
                            truth(c.truth, lang)
                        ));
                    }
                }
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_domain::date::{Date, Window};
    use strata_domain::money::{Fraction, Percent};
    use strata_domain::rfm::RfmScore;
    use strata_domain::rules::eval::ClauseExplanation;
    use strata_domain::segment_type::MethodKind;
    use strata_engine::inspect::{RowExplanation, RuleSegmentExplanation};

    fn amount(text: &str) -> Amount {
        Amount::parse(text, false, strata_domain::money::ExtraDigits::Reject).unwrap()
    }

    fn pareto() -> TypeExplanation {
        TypeExplanation {
            type_name: "ABC".into(),
            method: MethodKind::Pareto,
            window: Some(Window::new(
                Date::parse_iso("2024-01-01").unwrap(),
                Date::parse_iso("2024-12-31").unwrap(),
            )),
            rows: vec![RowExplanation {
                segment: "A".into(),
                source: Source::Manual,
                computed: Some("B".into()),
                manual: Some("A".into()),
            }],
            reason: Reason::Pareto {
                eligible_sales: Some(amount("1234.5")),
                share_before: Some(Share::Exact(Fraction {
                    part: amount("80"),
                    whole: amount("100"),
                })),
                tiers: vec![
                    ("A".into(), Percent::parse("80").unwrap()),
                    ("B".into(), Percent::parse("95").unwrap()),
                ],
                min_sales: amount("10"),
            },
        }
    }

    fn rfm() -> TypeExplanation {
        TypeExplanation {
            type_name: "RFM".into(),
            method: MethodKind::Rfm,
            window: None,
            rows: Vec::new(),
            reason: Reason::Rfm {
                score: Some(RfmScore {
                    recency_days: 12,
                    frequency: 3,
                    monetary: amount("99.5"),
                    r: 5,
                    f: 4,
                    m: 3,
                }),
                fixed: [true, false, false],
            },
        }
    }

    fn rules() -> TypeExplanation {
        TypeExplanation {
            type_name: "G".into(),
            method: MethodKind::Rules,
            window: None,
            rows: Vec::new(),
            reason: Reason::Rules {
                considered: false,
                segments: vec![RuleSegmentExplanation {
                    segment: "Big".into(),
                    included: false,
                    excluded: true,
                    rule: Some((
                        "total_spent > 100".into(),
                        Truth::Unknown,
                        vec![ClauseExplanation {
                            condition: "total_spent > 100".into(),
                            value: "null".into(),
                            truth: Truth::Unknown,
                        }],
                    )),
                }],
            },
        }
    }

    /// The heading and lines of an explanation, as the terminal prints them.
    fn text(e: &TypeExplanation, lang: Lang) -> Vec<String> {
        let mut out = vec![heading(e, lang)];
        out.extend(lines(e, lang));
        out
    }

    #[test]
    fn explanations_in_english() {
        assert_eq!(
            text(&pareto(), Lang::En),
            [
                "ABC (pareto): A",
                "window 2024-01-01 .. 2024-12-31",
                "A: source manual, computed B, manual A",
                "eligible sales 1\u{202f}234.5; customers with greater sales make 80 of T = 100 (0.800000)",
                "tiers: A while before / T < 80 %, B while before / T < 95 %",
                "customers below min_sales = 10 are not ranked",
            ]
        );
        assert_eq!(
            text(&rfm(), Lang::En),
            [
                "RFM (rfm): no segment",
                "recency 12 days, frequency 3 orders, monetary 99.5 -> R 5 F 4 M 3",
                "scores from: R fixed thresholds, F quantiles of the scored customers, M quantiles of the scored customers",
            ]
        );
        assert_eq!(
            text(&rules(), Lang::En),
            [
                "G (rules): no segment",
                "no line of the type's agencies and brands, and no such agency in the customers file: no rule applies",
                "Big: on the exclude list",
                "Big: total_spent > 100 is unknown",
                "    total_spent > 100 (null) is unknown",
            ]
        );
    }

    #[test]
    fn a_share_read_back_from_a_stored_result_is_printed_as_stored() {
        let mut e = pareto();
        if let Reason::Pareto { share_before, .. } = &mut e.reason {
            *share_before = Some(Share::Printed("0.712345".into()));
        }
        assert_eq!(
            lines(&e, Lang::En)[2],
            "eligible sales 1\u{202f}234.5; customers with greater sales make 0.712345 of T"
        );
        assert_eq!(
            lines(&e, Lang::Fr)[2],
            "ventes éligibles 1\u{202f}234,5 ; les clients aux ventes supérieures font 0,712345 de T"
        );
    }

    #[test]
    fn explanations_in_french() {
        assert_eq!(
            text(&pareto(), Lang::Fr),
            [
                "ABC (pareto): A",
                "période 2024-01-01 .. 2024-12-31",
                "A: origine manuel, calculé B, manuel A",
                "ventes éligibles 1\u{202f}234,5 ; les clients aux ventes supérieures font 80 sur T = 100 (0,800000)",
                "niveaux: A tant que avant / T < 80 %, B tant que avant / T < 95 %",
                "les clients sous min_sales = 10 ne sont pas classés",
            ]
        );
        assert_eq!(
            text(&rfm(), Lang::Fr),
            [
                "RFM (rfm): aucun segment",
                "récence 12 jours, fréquence 3 commandes, montant 99,5 -> R 5 F 4 M 3",
                "notes par: R seuils fixes, F quantiles des clients notés, M quantiles des clients notés",
            ]
        );
        assert_eq!(
            text(&rules(), Lang::Fr),
            [
                "G (rules): aucun segment",
                "aucune ligne des agences et marques du type, ni une de ces agences dans le fichier clients : aucune règle ne s'applique",
                "Big: sur la liste d'exclusion",
                "Big: total_spent > 100 est inconnu",
                "    total_spent > 100 (null) est inconnu",
            ]
        );
    }
}
