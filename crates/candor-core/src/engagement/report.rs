//! Summing recorded page views, access requests and downloads into one report for a period.

use chrono::{DateTime, NaiveDate};
use std::collections::BTreeMap;

/// A span of whole days (UTC), both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub until: NaiveDate,
}

impl Period {
    /// The `days` days that end with `today`.
    pub fn last(days: u32, today: NaiveDate) -> Period {
        let from = today - chrono::Days::new(u64::from(days.max(1)) - 1);
        Period { from, until: today }
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|d| *d <= self.until)
    }

    /// The first second of the period, as Unix seconds.
    pub fn start_secs(&self) -> i64 {
        self.from
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0)
    }

    fn holds(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.until
    }
}

/// One day's count of views of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRow {
    pub day: NaiveDate,
    pub page: String,
    pub views: u64,
}

/// An access request as the report needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    /// Unix seconds.
    pub at: i64,
    pub email: String,
    pub company: String,
    pub documents: Vec<String>,
}

/// A viewer's download of an NDA document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadRow {
    /// Unix seconds.
    pub at: i64,
    pub email: String,
    pub company: String,
    pub document: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayCount {
    pub day: Option<NaiveDate>,
    pub views: u64,
    pub requests: u64,
    /// Downloads of NDA documents by viewers and of public documents.
    pub downloads: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRow {
    pub company: String,
    pub requests: u64,
    pub downloads: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentRow {
    pub document: String,
    /// Access requests that asked for it.
    pub requests: u64,
    /// Downloads by viewers under a grant.
    pub viewer_downloads: u64,
    /// Downloads of it while it was public (anonymous: no company).
    pub public_downloads: u64,
}

/// Everything the engagement page and its CSV show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub period: Period,
    /// One entry per day of the period, zeros included, oldest first.
    pub days: Vec<DayCount>,
    pub totals: DayCount,
    /// Pages by views, most viewed first.
    pub pages: Vec<(String, u64)>,
    /// Companies by requests and downloads, most active first.
    pub companies: Vec<CompanyRow>,
    /// Documents by downloads and requests, most wanted first.
    pub documents: Vec<DocumentRow>,
}

/// The company a requester belongs to: the organisation name they entered, or failing that their
/// email's domain. Runs of spaces are one space; [`report`] also takes names that differ only in
/// case for one company, shown as first spelled.
pub fn company_of(company: &str, email: &str) -> String {
    let typed = company.split_whitespace().collect::<Vec<_>>().join(" ");
    if !typed.is_empty() {
        return typed;
    }
    email
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim().to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "(unknown)".to_owned())
}

/// A public document's download as counted with the page views: `/documents/{slug}/download`.
fn public_download(page: &str) -> Option<&str> {
    page.strip_prefix("/documents/")?.strip_suffix("/download")
}

fn document<'a>(documents: &'a mut BTreeMap<String, DocumentRow>, slug: &str) -> &'a mut DocumentRow {
    documents.entry(slug.to_owned()).or_insert_with(|| DocumentRow {
        document: slug.to_owned(),
        ..Default::default()
    })
}

/// Keyed by the case-folded name; the row keeps the first spelling seen.
fn company(companies: &mut BTreeMap<String, CompanyRow>, name: String) -> &mut CompanyRow {
    companies.entry(name.to_lowercase()).or_insert_with(|| CompanyRow {
        company: name,
        requests: 0,
        downloads: 0,
    })
}

fn day_of(at: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp(at, 0).map(|t| t.date_naive())
}

/// Sums the rows that fall in `period` (rows outside it are ignored).
pub fn report(period: Period, views: &[ViewRow], requests: &[RequestRow], downloads: &[DownloadRow]) -> Report {
    let mut days: BTreeMap<NaiveDate, DayCount> = period
        .days()
        .map(|d| {
            (
                d,
                DayCount {
                    day: Some(d),
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut pages: BTreeMap<&str, u64> = BTreeMap::new();
    let mut documents: BTreeMap<String, DocumentRow> = BTreeMap::new();
    let mut companies: BTreeMap<String, CompanyRow> = BTreeMap::new();
    for v in views.iter().filter(|v| period.holds(v.day)) {
        let Some(day) = days.get_mut(&v.day) else { continue };
        match public_download(&v.page) {
            Some(slug) => {
                day.downloads += v.views;
                document(&mut documents, slug).public_downloads += v.views;
            }
            None => {
                day.views += v.views;
                *pages.entry(&v.page).or_default() += v.views;
            }
        }
    }
    for r in requests {
        let Some(day) = day_of(r.at).and_then(|d| days.get_mut(&d)) else {
            continue;
        };
        day.requests += 1;
        company(&mut companies, company_of(&r.company, &r.email)).requests += 1;
        for slug in &r.documents {
            document(&mut documents, slug).requests += 1;
        }
    }
    for d in downloads {
        let Some(day) = day_of(d.at).and_then(|x| days.get_mut(&x)) else {
            continue;
        };
        day.downloads += 1;
        company(&mut companies, company_of(&d.company, &d.email)).downloads += 1;
        document(&mut documents, &d.document).viewer_downloads += 1;
    }
    let days: Vec<DayCount> = days.into_values().collect();
    let totals = days.iter().fold(DayCount::default(), |t, d| DayCount {
        day: None,
        views: t.views + d.views,
        requests: t.requests + d.requests,
        downloads: t.downloads + d.downloads,
    });
    let mut pages: Vec<(String, u64)> = pages.into_iter().map(|(p, n)| (p.to_owned(), n)).collect();
    pages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut companies: Vec<CompanyRow> = companies.into_values().collect();
    companies.sort_by(|a, b| {
        (b.requests + b.downloads)
            .cmp(&(a.requests + a.downloads))
            .then_with(|| a.company.cmp(&b.company))
    });
    let mut documents: Vec<DocumentRow> = documents.into_values().collect();
    documents.sort_by(|a, b| {
        let n = |d: &DocumentRow| d.viewer_downloads + d.public_downloads + d.requests;
        n(b).cmp(&n(a)).then_with(|| a.document.cmp(&b.document))
    });
    Report {
        period,
        days,
        totals,
        pages,
        companies,
        documents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str) -> i64 {
        d(s).and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp()
    }

    #[test]
    fn the_company_is_the_typed_name_or_the_email_domain() {
        assert_eq!(company_of("  Fabrikam   Inc ", "a@x.example"), "Fabrikam Inc");
        assert_eq!(company_of("", "Ana@Fabrikam.EXAMPLE"), "fabrikam.example");
        assert_eq!(company_of(" ", "nobody"), "(unknown)");
    }

    #[test]
    fn rows_are_summed_per_day_page_company_and_document() {
        let period = Period::last(3, d("2026-03-03"));
        assert_eq!(period.from, d("2026-03-01"));
        let views = [
            ViewRow {
                day: d("2026-03-01"),
                page: "/".into(),
                views: 5,
            },
            ViewRow {
                day: d("2026-03-03"),
                page: "/".into(),
                views: 2,
            },
            ViewRow {
                day: d("2026-03-03"),
                page: "/faq".into(),
                views: 9,
            },
            ViewRow {
                day: d("2026-03-02"),
                page: "/documents/soc2/download".into(),
                views: 4,
            },
            // Before the period.
            ViewRow {
                day: d("2026-02-28"),
                page: "/".into(),
                views: 100,
            },
        ];
        let requests = [
            RequestRow {
                at: at("2026-03-02"),
                email: "a@fabrikam.example".into(),
                company: "Fabrikam".into(),
                documents: vec!["soc2".into(), "pentest".into()],
            },
            RequestRow {
                at: at("2026-03-02"),
                email: "b@fabrikam.example".into(),
                company: "fabrikam ".into(),
                documents: vec!["soc2".into()],
            },
            RequestRow {
                at: at("2026-02-01"),
                email: "c@old.example".into(),
                company: "Old".into(),
                documents: vec![],
            },
        ];
        let downloads = [DownloadRow {
            at: at("2026-03-03"),
            email: "a@fabrikam.example".into(),
            company: "Fabrikam".into(),
            document: "soc2".into(),
        }];
        let r = report(period, &views, &requests, &downloads);
        assert_eq!(r.days.len(), 3);
        assert_eq!((r.days[0].views, r.days[1].views, r.days[2].views), (5, 0, 11));
        assert_eq!(r.days[1].downloads, 4);
        assert_eq!(
            r.totals,
            DayCount {
                day: None,
                views: 16,
                requests: 2,
                downloads: 5
            }
        );
        assert_eq!(r.pages, vec![("/faq".to_owned(), 9), ("/".to_owned(), 7)]);
        assert_eq!(
            r.companies,
            vec![CompanyRow {
                company: "Fabrikam".into(),
                requests: 2,
                downloads: 1
            }]
        );
        assert_eq!(
            r.documents[0],
            DocumentRow {
                document: "soc2".into(),
                requests: 2,
                viewer_downloads: 1,
                public_downloads: 4
            }
        );
        assert_eq!(r.documents[1].document, "pentest");
    }
}
