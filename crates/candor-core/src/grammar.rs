//! Small rules of English used wherever a sentence is built from data: the possessive of a name
//! ("Northwind Labs' documents", not "Northwind Labs's"), a count with its noun ("1 second",
//! "2 seconds"), and a wait in words ("Wait 40 seconds", "Wait 2 minutes").

/// `name` followed by its possessive ending: `'s`, or a bare apostrophe after a final "s"
/// ("Northwind Labs'", "Corvellan's"). A trailing full stop or space is not looked at.
pub fn possessive(name: &str) -> String {
    let name = name.trim_end();
    if name.ends_with('s') || name.ends_with('S') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// `count` and the noun, singular for exactly one: `plural(1, "second", "seconds")` is
/// "1 second".
pub fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

/// A wait of `secs` seconds in words, rounded up to what a person would say: seconds under a
/// minute, whole minutes under an hour, whole hours beyond ("40 seconds", "1 minute",
/// "3 hours"). Rounding up so that trying again after the time said always works.
pub fn wait_in_words(secs: u64) -> String {
    let secs = secs.max(1);
    if secs < 60 {
        plural(secs, "second", "seconds")
    } else if secs < 3600 {
        plural(secs.div_ceil(60), "minute", "minutes")
    } else {
        plural(secs.div_ceil(3600), "hour", "hours")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn possessive_of_names_ending_in_s_is_a_bare_apostrophe() {
        assert_eq!(possessive("Northwind Labs"), "Northwind Labs'");
        assert_eq!(possessive("ACME SYSTEMS"), "ACME SYSTEMS'");
        assert_eq!(possessive("Corvellan"), "Corvellan's");
        assert_eq!(possessive("Corvellan "), "Corvellan's");
        assert_eq!(possessive(""), "'s");
    }

    #[test]
    fn plural_is_singular_for_one_only() {
        assert_eq!(plural(0, "second", "seconds"), "0 seconds");
        assert_eq!(plural(1, "second", "seconds"), "1 second");
        assert_eq!(plural(2, "request", "requests"), "2 requests");
    }

    #[test]
    fn waits_are_rounded_up_into_words() {
        assert_eq!(wait_in_words(0), "1 second");
        assert_eq!(wait_in_words(1), "1 second");
        assert_eq!(wait_in_words(40), "40 seconds");
        assert_eq!(wait_in_words(59), "59 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(61), "2 minutes");
        assert_eq!(wait_in_words(3599), "60 minutes");
        assert_eq!(wait_in_words(3600), "1 hour");
        assert_eq!(wait_in_words(7201), "3 hours");
    }
}
