//! Taking over what was made from an item (a search document, a piece of `trust.json`) when the
//! item has not changed since.

use std::collections::HashMap;

/// One value per item of `now`: taken over from `made` (made from `before`, in the same order)
/// when `before` holds an equal item under the same key, else made by `make`.
pub(super) fn reuse<T: PartialEq, V: Clone>(
    before: &[T],
    made: &[V],
    now: &[T],
    key: impl Fn(&T) -> &str,
    mut make: impl FnMut(&T) -> V,
) -> Vec<V> {
    assert_eq!(before.len(), made.len(), "one made value per item");
    let mut index: Option<HashMap<&str, usize>> = None;
    now.iter()
        .enumerate()
        .map(|(i, item)| {
            // Usually an item sits where it did; look it up only when it does not.
            let at = if before.get(i).is_some_and(|b| key(b) == key(item)) {
                Some(i)
            } else {
                index
                    .get_or_insert_with(|| before.iter().enumerate().map(|(j, b)| (key(b), j)).collect())
                    .get(key(item))
                    .copied()
            };
            match at {
                Some(j) if before[j] == *item => made[j].clone(),
                _ => make(item),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::reuse;

    #[test]
    fn equal_items_keep_their_value_wherever_they_moved() {
        let before = [("a", 1), ("b", 2), ("c", 3)];
        let made = ["A1", "B2", "C3"].map(String::from);
        let now = [("c", 3), ("b", 5), ("d", 4), ("a", 1)];
        let mut calls = vec![];
        let out = reuse(
            &before,
            &made,
            &now,
            |x| x.0,
            |x| {
                calls.push(x.0);
                format!("new {}{}", x.0, x.1)
            },
        );
        assert_eq!(out, ["C3", "new b5", "new d4", "A1"]);
        assert_eq!(calls, ["b", "d"]);
    }
}
