fn main() {
    // Drain stdin so Claude Code never blocks on a full pipe; always exit 0.
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
}
