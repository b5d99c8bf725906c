fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["common.proto", "catalog.proto", "meta.proto", "compute.proto"];
    let paths: Vec<_> = files.iter().map(|f| dir.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    tonic_prost_build::configure().compile_protos(&paths, &[dir])?;
    Ok(())
}
