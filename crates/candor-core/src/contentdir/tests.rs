use super::*;
use proptest::prelude::*;

fn dir(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect()
}

const TRUST: &str = r##"name = "Example"
tagline = "We keep your data safe"
description = "An **overview**."
brand_color = "#1d4ed8"
security_email = "security@example.com"
privacy_email = "privacy@example.com"
support_email = "support@example.com"
hosting_regions = ["EU"]
updated = 2026-01-02
"##;

const SECTION: &str = "+++\ntitle = \"Encryption\"\nsummary = \"How we encrypt.\"\norder = 20\n+++\nIntro text.\n\n## In transit {#in-transit}\nTLS 1.2+.\n\n## At rest {#at-rest .nda updated=2026-02-03}\nAES-256.\n\n### Keys\nRotated.\n";

#[test]
fn parses_a_small_directory() {
    let b = parse(&dir(&[
        ("trust.toml", TRUST),
        ("sections/encryption.md", SECTION),
        (
            "faq.toml",
            "[[faq]]\nslug = \"a\"\nquestion = \"Q?\"\nanswer = \"A.\"\n",
        ),
    ]))
    .unwrap();
    let kinds: Vec<_> = b.items.iter().map(|i| (i.kind, i.slug.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Profile, "profile"),
            (Kind::Faq, "a"),
            (Kind::Section, "encryption"),
            (Kind::Control, "in-transit"),
            (Kind::Control, "at-rest")
        ]
    );
    let at_rest = &b.items[4];
    assert_eq!(at_rest.body["visibility"], "nda");
    assert_eq!(at_rest.body["body"], "AES-256.\n\n### Keys\nRotated.");
    assert_eq!(at_rest.updated, NaiveDate::from_ymd_opt(2026, 2, 3));
    assert_eq!(b.items[2].position, 20);
    assert_eq!(b.items[2].body["body"], "Intro text.");
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    parse(&dir(files))
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn errors_name_file_and_line() {
    let p = problems(&[
        ("trust.toml", &TRUST.replace("#1d4ed8", "blue")),
        ("certifications.toml", "[[certification]]\nslug = \"iso\"\nname = \"ISO\"\nstatus = \"certified\"\n\n[[certification]]\nslug = \"soc2\"\nname = \"SOC 2\"\nstatus = \"done\"\n"),
        ("faq.toml", "[[faq]]\nslug = \"a\"\nquestion = \"Q\"\nanswer = \"\"\n\n[[faq]]\nslug = \"a\"\nquestion = \"Q2\"\nanswer = \"x\"\n"),
        ("sections/x.md", "+++\ntitle = \"X\"\nsummary = \"S\"\norder = 1\n+++\n## No slug here\nbody\n"),
        ("pages/broken.md", "+++\ntitle = \n+++\n"),
        ("stray.txt", ""),
    ]);
    let joined = p.join("\n");
    assert!(
        joined.contains("trust.toml:4: profile profile: brand_color"),
        "{joined}"
    );
    assert!(
        joined.contains("certifications.toml:9: certification soc2: status: unknown variant `done`"),
        "{joined}"
    );
    assert!(joined.contains("faq.toml:4: faq a: answer: is required"), "{joined}");
    assert!(
        joined.contains("faq.toml:6: faq slug `a` is used twice (first at faq.toml:1)"),
        "{joined}"
    );
    assert!(
        joined.contains("sections/x.md:6: control heading has no {#slug}"),
        "{joined}"
    );
    assert!(joined.contains("pages/broken.md:2: invalid string"), "{joined}");
    assert!(joined.contains("stray.txt: is not part of the format"), "{joined}");
    assert_eq!(p.len(), 7, "{joined}");
}

#[test]
fn missing_profile_is_reported() {
    assert_eq!(
        problems(&[]),
        ["trust.toml: is missing; every trust center needs a profile (name, contacts, brand colour)"]
    );
}

#[test]
fn render_then_parse_is_identity_on_sample() {
    let files = dir(&[("trust.toml", TRUST), ("sections/encryption.md", SECTION)]);
    let b = parse(&files).unwrap();
    let out = render(&b);
    let again = render(&parse(&out).unwrap());
    assert_eq!(out, again);
    assert_eq!(
        out["sections/encryption.md"],
        SECTION
            .replace("+++\nIntro", "updated_placeholder")
            .replace("updated_placeholder", "+++\nIntro")
    );
}

// Property: for any valid bundle, export -> import -> export is byte-identical.

fn text() -> impl Strategy<Value = String> {
    // Includes quotes, backslashes, TOML-ish and Markdown-ish characters and line breaks.
    "[a-zA-Z0-9 \"'\\\\#*_\\[\\]{}=+.,:-]{1,30}(\n[a-zA-Z0-9 \"'\\\\*_.-]{0,20}){0,3}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| {
            !s.is_empty() && !s.lines().any(|l| l.starts_with('#') || l.trim() == "+++")
        })
}
fn line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"'\\\\&<>.,:-]{1,30}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}
fn slug() -> impl Strategy<Value = Slug> {
    "[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,4}){0,2}".prop_map(|s| Slug::parse(&s).unwrap())
}
fn date() -> impl Strategy<Value = NaiveDate> {
    (2000i32..2040, 1u32..13, 1u32..29).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn bundle() -> impl Strategy<Value = Bundle> {
    let profile = (
        line(),
        line(),
        text(),
        proptest::collection::vec(line(), 0..3),
        proptest::option::of(date()),
    );
    let sections =
        proptest::collection::btree_map(slug(), (line(), line(), proptest::option::of(text()), -5i64..100), 0..4);
    let controls = proptest::collection::vec(
        (slug(), line(), text(), any::<bool>(), proptest::option::of(date())),
        0..6,
    );
    let faqs = proptest::collection::vec((slug(), line(), text()), 0..4);
    let certs = proptest::collection::vec(
        (
            slug(),
            line(),
            proptest::option::of(date()),
            proptest::option::of(line()),
        ),
        0..4,
    );
    let policies = proptest::collection::btree_map(slug(), (line(), line(), date(), text()), 0..3);
    (profile, sections, controls, faqs, certs, policies).prop_map(|(p, sections, controls, faqs, certs, policies)| {
        let mut items = vec![BundleItem {
            kind: Kind::Profile,
            slug: Slug::parse(PROFILE_SLUG).unwrap(),
            position: 0,
            updated: p.4,
            body: serde_json::json!({"name": p.0, "tagline": p.1, "description": p.2, "brand_color": "#123abc",
                "security_email": "s@x.example", "privacy_email": "p@x.example", "support_email": "h@x.example",
                "hosting_regions": p.3}),
        }];
        let section_slugs: Vec<_> = sections.keys().cloned().collect();
        for (slug, (title, summary, intro, order)) in sections {
            items.push(BundleItem { kind: Kind::Section, slug, position: order, updated: None,
                body: serde_json::json!({"title": title, "summary": summary, "body": intro.unwrap_or_default()}) });
        }
        let mut seen = std::collections::HashSet::new();
        for (i, (slug, title, body, nda, updated)) in controls.into_iter().enumerate() {
            if section_slugs.is_empty() || !seen.insert(slug.clone()) {
                continue;
            }
            let section = &section_slugs[i % section_slugs.len()];
            items.push(BundleItem { kind: Kind::Control, slug, position: i as i64, updated,
                body: serde_json::json!({"section": section, "title": title, "body": body, "visibility": if nda {"nda"} else {"public"}}) });
        }
        let mut seen = std::collections::HashSet::new();
        for (i, (slug, q, a)) in faqs.into_iter().enumerate() {
            if seen.insert(slug.clone()) {
                items.push(BundleItem { kind: Kind::Faq, slug, position: i as i64, updated: None, body: serde_json::json!({"question": q, "answer": a}) });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, (slug, name, expires, issuer)) in certs.into_iter().enumerate() {
            if seen.insert(slug.clone()) {
                let mut body = serde_json::json!({"name": name, "status": "certified", "summary": ""});
                if let Some(e) = expires { body["expires"] = serde_json::json!(e.to_string()); }
                if let Some(i) = issuer { body["issuer"] = serde_json::json!(i); }
                items.push(BundleItem { kind: Kind::Certification, slug, position: i as i64, updated: None, body });
            }
        }
        for (slug, (title, summary, eff, body)) in policies {
            items.push(BundleItem { kind: Kind::Policy, slug, position: 0, updated: Some(eff),
                body: serde_json::json!({"title": title, "summary": summary, "effective": eff.to_string(), "body": body}) });
        }
        Bundle { items }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn export_import_export_is_byte_identical(b in bundle()) {
        let first = render(&b);
        let parsed = parse(&first).map_err(|p| TestCaseError::fail(format!("{p:?}\n{first:#?}")))?;
        let second = render(&parsed);
        prop_assert_eq!(&first, &second);
    }
}

#[test]
fn controls_inherit_their_sections_date_and_export_omits_it() {
    let section = "+++\ntitle = \"T\"\nsummary = \"S\"\norder = 1\nupdated = 2026-05-05\n+++\n## A {#a}\nBody.\n\n## B {#b updated=2026-06-06}\nBody.\n";
    let b = parse(&dir(&[("trust.toml", TRUST), ("sections/t.md", section)])).unwrap();
    let date = |slug: &str| b.items.iter().find(|i| i.slug.as_str() == slug).unwrap().updated;
    assert_eq!(date("a"), NaiveDate::from_ymd_opt(2026, 5, 5));
    assert_eq!(date("b"), NaiveDate::from_ymd_opt(2026, 6, 6));
    let out = &render(&b)["sections/t.md"];
    assert!(
        out.contains("\n## A {#a}\n") && out.contains("\n## B {#b updated=2026-06-06}\n"),
        "{out}"
    );
}
