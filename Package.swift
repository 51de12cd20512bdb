// swift-tools-version: 6.1
import PackageDescription

// Layering (no import back up): CHwloc/CNuma/CArch -> Topology -> KernelMM -> Harness -> numastress.
let package = Package(
    name: "NUMAStress",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "numastress", targets: ["numastress"]),
        .library(name: "Harness", targets: ["Harness"]),
        .library(name: "KernelMM", targets: ["KernelMM"]),
        .library(name: "Topology", targets: ["Topology"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHwloc", pkgConfig: "hwloc",
            providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(
            name: "CNuma",
            providers: [.apt(["libnuma-dev"])]),
        .target(name: "CArch", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "Topology", dependencies: ["CHwloc", "CNuma", "CArch"]),
        .target(name: "KernelMM", dependencies: ["Topology", "CArch", "CNuma"]),
        .target(
            name: "Harness",
            dependencies: [
                "KernelMM", "Topology", "CArch",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        .executableTarget(
            name: "numastress",
            dependencies: ["Harness", "KernelMM", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "KernelMM"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelMMTests", dependencies: ["KernelMM", "Topology"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CLITests", dependencies: ["numastress", "Harness", .product(name: "Yams", package: "Yams")]),
        // A deliberately racy test that proves ThreadSanitizer is on: it runs only when
        // NUMASTRESS_TSAN_PROOF=1, and CI expects it to fail under --sanitize=thread.
        .testTarget(name: "TSanProofTests"),
    ]
)
