//! The index's rules, each on a small catalogue, and the threshold algorithm against scoring
//! everything.

use super::super::thesaurus::{parse, Thesaurus};
use super::*;

fn doc(code: &str, name: &str) -> Document {
    let tier = if code.starts_with('2') { "tier=province" } else { "tier=commune" };
    Document {
        code: code.into(),
        name: name.into(),
        facets: vec![format!("code={code}"), tier.into()],
        ..Default::default()
    }
}

fn catalogue() -> Vec<Document> {
    vec![
        doc("1.001193", "Đăng ký khai sinh"),
        doc("1.004884", "Đăng ký lại khai sinh"),
        doc("1.000656", "Đăng ký khai tử"),
        doc("1.004194", "Đăng ký tạm trú"),
        doc("1.002804", "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp"),
        doc("1.000307", "Cấp lại thẻ bảo hiểm y tế do bị mất, hỏng"),
        doc("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân"),
    ]
}

fn index() -> Index {
    let entries = parse(
        "gplx = giấy phép lái xe\nbhyt = bảo hiểm y tế\ndky = đăng ký\nbáo tử => khai tử\nmất => cấp lại\nstop: làm | xin | thủ tục | ở đâu",
    )
    .unwrap();
    Index::build(catalogue(), Thesaurus::of(&entries))
}

fn codes(ix: &Index, q: &str) -> Vec<String> {
    let docs = catalogue();
    ix.search(q, &[], 0, 10).docs.into_iter().map(|d| docs[d].code.clone()).collect()
}

#[test]
fn the_name_itself_comes_first() {
    let ix = index();
    assert_eq!(codes(&ix, "dang ky khai sinh")[..2], ["1.001193", "1.004884"]);
    assert_eq!(codes(&ix, "ĐĂNG KÍ KHAI SINH")[0], "1.001193");
    assert_eq!(codes(&ix, "1.000656"), ["1.000656"]);
    assert_eq!(codes(&ix, "1.0011"), ["1.001193"], "the start of a code");
    assert_eq!(codes(&ix, "1.00").len(), 6);
}

#[test]
fn abbreviations_everyday_words_and_words_that_mean_nothing() {
    let ix = index();
    assert_eq!(codes(&ix, "doi gplx")[0], "1.002804");
    assert_eq!(codes(&ix, "dky tam tru o dau")[0], "1.004194");
    assert_eq!(codes(&ix, "bao tu")[0], "1.000656");
    assert_eq!(codes(&ix, "lam the bhyt bi mat")[0], "1.000307");
    assert_eq!(codes(&ix, "xin thu tuc dang ky tam tru")[0], "1.004194");
    assert!(codes(&ix, "thu tuc").is_empty(), "alone, they are the query (and name nothing here)");
}

#[test]
fn one_typing_error_in_a_long_word() {
    let ix = index();
    assert_eq!(codes(&ix, "dang ky khai sinhh")[0], "1.001193");
    assert_eq!(codes(&ix, "thanh lap doanh ngheip")[0], "2.001610");
    // Not in a short word: "khia" is no word of the catalogue, and outweighs what matched.
    assert!(codes(&ix, "khia sinh").is_empty());
    // Nor in a code: one a digit off is another procedure's.
    assert!(codes(&ix, "1.001139").is_empty(), "two digits swapped");
    assert!(codes(&ix, "1.0011933").is_empty(), "a digit doubled");
    assert!(codes(&ix, "1.00193").is_empty(), "a digit missing");
}

#[test]
fn a_query_about_nothing_here_finds_nothing() {
    let ix = index();
    assert!(codes(&ix, "mua ve may bay").is_empty());
    assert!(codes(&ix, "qwerty").is_empty());
    assert!(codes(&ix, "dang ky xyzzy plugh").is_empty(), "two common words do not carry two unknown ones");
}

#[test]
fn suggestions_for_what_found_nothing() {
    let ix = index();
    assert_eq!(ix.did_you_mean("khia sinh", &[]).as_deref(), Some("khai sinh"));
    assert_eq!(ix.did_you_mean("dang ki tam truu xyzzy", &[]).as_deref(), Some("dang ki tam tru"));
    assert_eq!(ix.did_you_mean("Đăng ký tạm truu", &[]).as_deref(), Some("đăng ký tạm trú"), "marks as written");
    assert_eq!(ix.did_you_mean("dang ky khai sinh", &[]), None, "nothing to correct");
    assert_eq!(ix.did_you_mean("qwerty", &[]), None);
}

#[test]
fn filters_and_pages() {
    let ix = index();
    let docs = catalogue();
    let only_second = ix.search("khai sinh", &["code=1.004884".into()], 0, 10);
    assert_eq!(only_second, Found { docs: vec![1], total: 1 });
    assert_eq!(ix.search("dang ky", &["tier=province".into()], 0, 10), Found { docs: vec![6], total: 1 });
    assert_eq!(ix.search("dang ky", &["tier=province".into(), "code=1.004884".into()], 0, 10).total, 0);
    assert_eq!(ix.search("dang ky", &["tier=nowhere".into()], 0, 10).total, 0);
    let all = ix.search("dang ky", &[], 0, 100);
    let second_page = ix.search("dang ky", &[], 2, 2);
    assert_eq!(second_page.total, all.total);
    assert_eq!(second_page.docs, all.docs[2..4]);
    let by_code = ix.search("", &[], 0, 3);
    assert_eq!(by_code.total, 7);
    assert_eq!(
        by_code.docs.iter().map(|&d| docs[d].code.as_str()).collect::<Vec<_>>(),
        ["1.000307", "1.000656", "1.001193"]
    );
}

#[test]
fn search_as_you_type() {
    let ix = index();
    let docs = catalogue();
    let names = |q: &str| ix.suggest(q, 10).into_iter().map(|d| docs[d].name.clone()).collect::<Vec<_>>();
    assert_eq!(names("dang ky kh"), ["Đăng ký khai tử", "Đăng ký khai sinh", "Đăng ký lại khai sinh"]);
    assert_eq!(names("DĂNG KÍ T")[0], "Đăng ký tạm trú");
    assert_eq!(names("dky ta"), ["Đăng ký tạm trú"]);
    assert!(names("zz").is_empty());
    assert_eq!(ix.suggest("d", 2).len(), 2);
}

#[test]
fn names_that_start_with_what_was_typed_come_first_whatever_their_length() {
    let docs = vec![
        doc("1.1", "Cấp đổi thẻ khai"),
        doc("1.2", "Khai sinh"),
        doc("1.3", "Khai"),
        doc("1.4", "Đăng ký khai sinh"),
        doc("1.5", "Đăng ký khai"),
        doc("1.6", "Đăng ký lại khai sinh"),
        doc("1.7", "Đăng"),
    ];
    let ix = Index::build(docs.clone(), Thesaurus::default());
    let names = |q: &str| ix.suggest(q, 10).into_iter().map(|d| docs[d].name.as_str()).collect::<Vec<_>>();
    // Nothing typed before the last word: a name of one word starts with it as well.
    assert_eq!(names("kh")[..2], ["Khai", "Khai sinh"]);
    assert_eq!(names("kh").len(), 6);
    // One word typed before it: the name's second word starts with the last.
    assert_eq!(names("khai s"), ["Khai sinh", "Đăng ký khai sinh", "Đăng ký lại khai sinh"]);
    assert_eq!(names("dang k")[..3].iter().filter(|n| n.starts_with("Đăng ký")).count(), 3);
    assert!(!names("dang k").contains(&"Đăng"));
    // Two: the third word does.
    assert_eq!(names("dang ky kh"), ["Đăng ký khai", "Đăng ký khai sinh", "Đăng ký lại khai sinh"]);
    assert_eq!(names("dang ky lai kh"), ["Đăng ký lại khai sinh"]);
    assert_eq!(names("da")[0], "Đăng");
}

/// A catalogue large enough for the threshold algorithm, with names that repeat as real
/// catalogues' do (one procedure at many agencies).
fn many() -> Vec<Document> {
    let verbs = ["Cấp", "Cấp lại", "Gia hạn", "Đăng ký", "Thu hồi", "Xác nhận"];
    let objects = [
        "giấy phép xây dựng",
        "giấy phép lái xe",
        "chứng chỉ hành nghề",
        "giấy chứng nhận đăng ký",
        "thẻ bảo hiểm y tế",
    ];
    let qualifiers =
        ["nhà ở riêng lẻ", "cho người nước ngoài", "hộ kinh doanh", "tàu cá", "cơ sở karaoke", "hợp tác xã"];
    let agencies = ["Sở Xây dựng Hà Nội", "Sở Tư pháp Hà Nội", "Bộ Công Thương", "Ủy ban nhân dân phường Hoàn Kiếm"];
    let mut seed = 2026u64;
    let mut next = |m: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize % m
    };
    (0..3000)
        .map(|i| {
            let name = format!(
                "{} {} {}",
                verbs[next(verbs.len())],
                objects[next(objects.len())],
                qualifiers[next(qualifiers.len())]
            );
            let tier = if i % 3 == 0 { "tier=commune" } else { "tier=province" };
            Document {
                code: format!("SYN.{i:06}"),
                name,
                keywords: if i % 2 == 0 { "Văn bản chấp thuận".into() } else { "Giấy phép".into() },
                field: ["Xây dựng", "Hộ tịch", "Giao thông"][i % 3].into(),
                agencies: vec![agencies[next(agencies.len())].into()],
                facets: vec![tier.into()],
            }
        })
        .collect()
}

#[test]
fn the_threshold_algorithm_finds_what_scoring_everything_finds() {
    let entries = parse("gplx = giấy phép lái xe\nstop: cho | làm").unwrap();
    let ix = Index::build(many(), Thesaurus::of(&entries));
    let queries = [
        "giay phep",
        "cap lai giay phep",
        "giấy phép xây dựng nhà ở",
        "gplx tau ca",
        "the bao hiem y te",
        "dang ky ho kinh doanh",
        "xac nhan chung chi",
        "hanh nghe",
        "cap giay chung nhan dang ky",
        "thu hoi giay phep lai xe cho nguoi nuoc ngoai",
        "gia han",
        "so xay dung",
        "giay phep xay dungg",
    ];
    let mut by_threshold = 0;
    for query in queries {
        for filter in [vec![], vec!["tier=province".to_string()]] {
            for (offset, limit) in [(0, 20), (20, 20), (40, 20), (0, 100)] {
                let words = words(query);
                let (q, found) = ix.found(&words, &filter).unwrap();
                let mut all: Vec<Hit> = found.iter().map(|d| ix.hit(&q, d)).collect();
                all.sort_unstable();
                let expected: Vec<usize> = all.iter().skip(offset).take(limit).map(|h| h.doc as usize).collect();
                let got = ix.search(query, &filter, offset, limit);
                assert_eq!(got.total, all.len(), "{query}");
                if got.total > 64 && 2 * (offset + limit) < got.total {
                    by_threshold += 1;
                }
                assert_eq!(got.docs, expected, "{query} {filter:?} {offset}+{limit}");
            }
        }
    }
    assert!(by_threshold >= 60, "most pages go through the threshold algorithm: {by_threshold}");
}
