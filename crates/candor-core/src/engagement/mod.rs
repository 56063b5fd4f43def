//! Engagement with the trust center: which pages are read, which companies ask for and download
//! documents, and how that moves over time. What sales teams ask a trust center for.
//!
//! The rules here are pure: telling a robot's user agent from a person's browser, naming the
//! company behind a request, summing rows into a report, and drawing a day series as SVG.

mod chart;
mod report;

pub use chart::daily_bars_svg;
pub use report::{
    company_of, report, CompanyRow, DayCount, DocumentRow, DownloadRow, Period, Report, RequestRow, ViewRow,
};

/// Parts of a user agent that mark a program rather than a person reading the page: the generic
/// words crawlers put in their names ("Googlebot", "bingbot", "AhrefsBot", "Baiduspider",
/// "YandexBot", "facebookexternalhit"… nearly all contain `bot`, `crawl` or `spider`), headless
/// browsers (scrapers and link previews drive them; so do our own browser tests, whose views are
/// therefore not counted), and the HTTP libraries and command-line tools scripts use.
const BOT_MARKS: [&str; 18] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "headless",
    "lighthouse",
    "externalhit",
    "preview",
    "curl/",
    "wget/",
    "python",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "scrapy",
    "axios/",
    "node-fetch",
];

/// Longest user agent looked at; browsers' are under 200 bytes, and the marks of a robot come
/// early in its name.
const UA_PREFIX: usize = 256;

/// Whether a page view with this `User-Agent` (as sent, `None` when absent) is a robot's.
/// A request without a user agent is counted as a robot's: every browser sends one.
/// Case-insensitive; no allocation (this runs on every page view).
pub fn is_bot(user_agent: Option<&[u8]>) -> bool {
    let Some(ua) = user_agent.filter(|ua| !ua.is_empty()) else {
        return true;
    };
    let mut buf = [0u8; UA_PREFIX];
    let n = ua.len().min(UA_PREFIX);
    for (b, u) in buf.iter_mut().zip(&ua[..n]) {
        *b = u.to_ascii_lowercase();
    }
    let lower = match std::str::from_utf8(&buf[..n]) {
        Ok(s) => s,
        // Cut inside a multi-byte character, or not UTF-8 at all: the valid prefix.
        Err(e) => std::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or_default(),
    };
    BOT_MARKS.iter().any(|mark| lower.contains(mark))
}

#[cfg(test)]
mod tests {
    use super::is_bot;

    fn bot(ua: &str) -> bool {
        is_bot(Some(ua.as_bytes()))
    }

    #[test]
    fn browsers_are_people() {
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        ] {
            assert!(!bot(ua), "{ua}");
        }
    }

    #[test]
    fn crawlers_tools_and_headless_browsers_are_robots() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0)",
            "Mozilla/5.0 (compatible; Baiduspider/2.0)",
            "Mozilla/5.0 (compatible; Yahoo! Slurp)",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
            "curl/8.5.0",
            "Wget/1.21",
            "python-requests/2.32",
            "Go-http-client/1.1",
            "CCBot/2.0 (https://commoncrawl.org/faq/)",
            "GPTBot/1.1",
            "Slackbot-LinkExpanding 1.0",
        ] {
            assert!(bot(ua), "{ua}");
        }
    }

    #[test]
    fn no_user_agent_is_a_robot_and_odd_bytes_do_not_panic() {
        assert!(is_bot(None));
        assert!(is_bot(Some(b"")));
        assert!(!is_bot(Some(&[0xff, 0xfe, b'M'])));
        let long = format!("{}é{}", "a".repeat(255), "bot");
        // The mark past the prefix is not seen; a cut character is not an error.
        assert!(!bot(&long));
        assert!(bot(&format!("SuperBot/{}", "x".repeat(1000))));
    }
}
