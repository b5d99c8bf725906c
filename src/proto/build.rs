fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not with env!(): cargo reuses a compiled build script across clones of
    // the workspace at different paths (CI shares the target dir), so a baked-in path goes stale.
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files = ["common.proto", "catalog.proto", "stream_plan.proto", "meta.proto", "compute.proto"];
    let paths: Vec<_> = files.iter().map(|f| dir.join(f)).collect();
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    tonic_prost_build::configure().compile_protos(&paths, &[dir])?;
    Ok(())
}
