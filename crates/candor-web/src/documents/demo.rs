//! Sample documents for the demo trust center, made on first start: a public security overview
//! and an NDA-gated audit report summary, as small PDFs written here (clearly marked as samples
//! of the fictional company), so a newcomer can try the whole request → NDA → approval path.

use crate::AppState;
use candor_core::documents::{Access, DocumentKind, FileType};
use candor_store::{BlobRow, DocumentFields, NewVersion};

struct Sample {
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    kind: DocumentKind,
    access: Access,
    filename: &'static str,
    links: &'static [&'static str],
    pages: &'static [&'static [&'static str]],
}

const SAMPLES: &[Sample] = &[
    Sample {
        slug: "security-overview",
        title: "Security overview",
        description: "A two-page summary of how Corvellan protects customer data. Sample document of a fictional company.",
        kind: DocumentKind::Policy,
        access: Access::Public,
        filename: "corvellan-security-overview.pdf",
        links: &["section/encryption", "section/business-continuity"],
        pages: &[
            &[
                "Corvellan security overview (SAMPLE - fictional company)",
                "",
                "Customer data is encrypted in transit with TLS 1.2 or later and at rest with AES-256.",
                "Production access needs single sign-on with a hardware-backed second factor.",
                "Every change to production is reviewed by a second engineer and deployed by pipeline.",
            ],
            &[
                "Availability and recovery (SAMPLE)",
                "",
                "Databases are replicated across two availability zones and backed up every hour.",
                "Backups are restored and checked every month; the last full test took 38 minutes.",
            ],
        ],
    },
    Sample {
        slug: "soc-2-type-ii-report",
        title: "SOC 2 Type II report (summary)",
        description: "The auditor's report on our controls over twelve months. Shared under NDA. Sample document of a fictional company.",
        kind: DocumentKind::AuditReport,
        access: Access::Nda,
        filename: "corvellan-soc2-type-ii-summary.pdf",
        links: &["certification/soc-2-type-2"],
        pages: &[
            &[
                "SOC 2 Type II report, summary (SAMPLE - fictional company)",
                "",
                "Period: twelve months. Trust services criteria: security, availability, confidentiality.",
                "Opinion: controls were suitably designed and operated effectively throughout the period.",
            ],
            &[
                "Exceptions noted (SAMPLE)",
                "",
                "One quarterly access review was completed nine days late; no inappropriate access was found.",
            ],
            &["Management response (SAMPLE)", "", "Access reviews now open automatically two weeks before they are due."],
        ],
    },
];

/// A plain PDF with one text line after another on each page.
fn sample_pdf(pages: &[&[&str]]) -> Vec<u8> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
    let mut objects =
        vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            format!(
            "<< /Type /Pages /Kids [{}] /Count {} /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>",
            (0..pages.len()).map(|i| format!("{} 0 R", 4 + 2 * i)).collect::<Vec<_>>().join(" "),
            pages.len()
        ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
        ];
    for (i, lines) in pages.iter().enumerate() {
        let mut content = String::new();
        for (n, line) in lines.iter().enumerate() {
            let size = if n == 0 { 16 } else { 11 };
            content.push_str(&format!(
                "BT /F1 {size} Tf 56 {} Td ({}) Tj ET\n",
                780 - n * 22,
                escape(line)
            ));
        }
        objects.push(format!("<< /Type /Page /Parent 2 0 R /Contents {} 0 R >>", 5 + 2 * i));
        objects.push(crate::simple_pdf::stream(&content));
    }
    crate::simple_pdf::assemble(&objects)
}

/// Adds the samples (encrypted like any upload) when the library is empty.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    if !state.store().documents(state.org()).await?.is_empty() {
        return Ok(());
    }
    let ring = state.key_ring();
    let mut effects = candor_app::Effects::default();
    for s in SAMPLES {
        let pdf = sample_pdf(s.pages);
        let stored = state.blobs().put_bytes(&ring, &pdf).await?;
        let fields = DocumentFields {
            slug: s.slug.into(),
            title: s.title.into(),
            description: s.description.into(),
            kind: s.kind,
            access: s.access,
            links: s.links.iter().map(|l| (*l).to_owned()).collect(),
        };
        let version = NewVersion {
            blob: BlobRow {
                id: stored.id,
                key_id: stored.wrapped.key_id,
                wrapped_key: stored.wrapped.sealed,
                size: stored.size as i64,
                sha256: stored.sha256,
            },
            filename: s.filename.into(),
            content_type: FileType::Pdf.content_type().into(),
            uploaded_by: candor_store::DEMO_UPLOADER.into(),
        };
        let done = state.app().add_sample_document(&fields, &version).await?;
        effects.merge(done.effects);
    }
    state.apply(effects).await;
    Ok(())
}
