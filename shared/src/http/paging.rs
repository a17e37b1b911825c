//! Page/size paging and `sort=property[,asc|desc]` per the platform's conventions.

use serde::Serialize;

use super::extract::QueryParams;
use crate::domain::validation::FieldError;
use crate::error::AppError;

/// The documented maximum page size.
pub const MAX_PAGE_SIZE: i64 = 100;
const DEFAULT_PAGE_SIZE: i64 = 20;

/// Which page the client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub size: usize,
    pub number: usize,
}

impl PageRequest {
    /// Reads `size` (1..=100, default 20) and `page` (0-based, default 0).
    pub fn from_query(query: &QueryParams) -> Result<Self, AppError> {
        let size = query.int_in("size", 1, MAX_PAGE_SIZE)?.unwrap_or(DEFAULT_PAGE_SIZE);
        let number = query.int_in("page", 0, i64::from(i32::MAX))?.unwrap_or(0);
        Ok(Self {
            size: size as usize,
            number: number as usize,
        })
    }

    /// How many items precede the page.
    pub fn offset(&self) -> usize {
        self.size.saturating_mul(self.number)
    }
}

/// Paging metadata.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub size: usize,
    pub number: usize,
    pub total_elements: u64,
    pub total_pages: u64,
}

/// A page resource: `{page, elements}`.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub page: PageInfo,
    pub elements: Vec<T>,
}

impl<T> Page<T> {
    /// The page `request` of a collection of `total` items holding `elements`.
    pub fn new(request: PageRequest, total: u64, elements: Vec<T>) -> Self {
        let total_pages = total.div_ceil(request.size as u64);
        Page {
            page: PageInfo {
                size: request.size,
                number: request.number,
                total_elements: total,
                total_pages,
            },
            elements,
        }
    }

    /// Pages an in-memory collection: a page past the end is empty.
    pub fn slice(request: PageRequest, all: Vec<T>) -> Self {
        let total = all.len() as u64;
        let elements = all.into_iter().skip(request.offset()).take(request.size).collect();
        Page::new(request, total, elements)
    }
}

/// Direction of a sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// One `sort` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub property: String,
    pub direction: Direction,
}

/// Reads every `sort` parameter; a property outside `allowed` or a bad direction is a 400.
pub fn sort_keys(query: &QueryParams, allowed: &[&str]) -> Result<Vec<SortKey>, AppError> {
    query
        .all("sort")
        .into_iter()
        .map(|raw| {
            let (property, direction) = raw.split_once(',').unwrap_or((raw, "asc"));
            let direction = match direction.trim().to_ascii_lowercase().as_str() {
                "asc" => Direction::Asc,
                "desc" => Direction::Desc,
                _ => {
                    return Err(AppError::field(FieldError::query(
                        "sort",
                        format!("direction of {property} must be asc or desc"),
                    )));
                }
            };
            if !allowed.contains(&property.trim()) {
                return Err(AppError::field(FieldError::query(
                    "sort",
                    format!("cannot sort by {property}; use one of {}", allowed.join(", ")),
                )));
            }
            Ok(SortKey {
                property: property.trim().to_owned(),
                direction,
            })
        })
        .collect()
}

/// Sorts `items` by `keys`, earlier keys first, reading each item's value of a property
/// with `value` once; items that compare equal keep their order. The values are kept in
/// one list and the items moved once, whatever their number.
pub fn sort_by_keys<T, V: Ord>(items: Vec<T>, keys: &[SortKey], value: impl Fn(&T, &str) -> V) -> Vec<T> {
    if keys.is_empty() {
        return items;
    }
    let width = keys.len();
    let values: Vec<V> = items
        .iter()
        .flat_map(|item| keys.iter().map(|key| value(item, &key.property)))
        .collect();
    let values_of = |position: usize| &values[position * width..(position + 1) * width];
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        keys.iter()
            .zip(values_of(a).iter().zip(values_of(b)))
            .map(|(key, (a, b))| match key.direction {
                Direction::Asc => a.cmp(b),
                Direction::Desc => b.cmp(a),
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|position| slots[position].take()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds_follow_the_conventions() {
        let ok = PageRequest::from_query(&QueryParams::parse("size=100&page=3")).unwrap();
        assert_eq!((ok.size, ok.number, ok.offset()), (100, 3, 300));
        assert_eq!(
            PageRequest::from_query(&QueryParams::parse("")).unwrap(),
            PageRequest { size: 20, number: 0 }
        );
        for bad in ["size=0", "size=101", "page=-1", "size=ten"] {
            assert!(PageRequest::from_query(&QueryParams::parse(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_page_past_the_end_is_empty_with_true_totals() {
        let page = Page::slice(PageRequest { size: 2, number: 5 }, vec![1, 2, 3]);
        assert!(page.elements.is_empty());
        assert_eq!((page.page.total_elements, page.page.total_pages), (3, 2));
    }

    #[test]
    fn sorting_follows_the_keys_in_order() {
        let people = vec![("b", 1), ("a", 2), ("b", 0), ("c", 2)];
        let keys = sort_keys(&QueryParams::parse("sort=n,desc&sort=s"), &["n", "s"]).unwrap();
        let sorted = sort_by_keys(people, &keys, |(s, n), property| match property {
            "n" => n.to_string(),
            _ => s.to_string(),
        });
        assert_eq!(sorted, [("a", 2), ("c", 2), ("b", 1), ("b", 0)]);
    }

    #[test]
    fn sort_accepts_known_properties_only() {
        let keys = sort_keys(&QueryParams::parse("sort=name,desc&sort=email"), &["name", "email"]).unwrap();
        assert_eq!(
            keys[0],
            SortKey {
                property: "name".into(),
                direction: Direction::Desc
            }
        );
        assert_eq!(keys[1].direction, Direction::Asc);
        assert!(sort_keys(&QueryParams::parse("sort=password"), &["name"]).is_err());
        assert!(sort_keys(&QueryParams::parse("sort=name,sideways"), &["name"]).is_err());
    }
}
