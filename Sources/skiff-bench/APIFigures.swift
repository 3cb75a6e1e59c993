import Foundation

/// What `skiff-bench api` measured on one server, and the side-by-side table.
struct APIFigures {
    var name: String
    var create = LoadResult()
    var get = LoadResult()
    var getProtobuf = LoadResult()
    var list = LoadResult()
    var listGzip = LoadResult()
    var listBytes = Double.nan
    var listGzipBytes = Double.nan
    var pagedMs = Double.nan
    var update = UpdateUnderWatchers.Result()
    var churn = ChurnResult()
    var pacedChurn = ChurnResult()
    var rssIdle = Double.nan
    var rssLoaded = Double.nan

    /// One row per figure: Skiff's, the peer's, and the ratio oriented so that above 1 means
    /// Skiff does better (rates: skiff / peer; times, bytes, memory: peer / skiff).
    static func printTable(_ results: [APIFigures]) {
        guard let skiff = results.first else { return }
        let peer = results.count > 1 ? results[1] : nil
        struct Row { var name: String; var value: (APIFigures) -> Double; var higherIsBetter: Bool; var format: String }
        let rows = [
            Row(name: "CREATE req/s", value: { $0.create.perSecond }, higherIsBetter: true, format: "%.0f"),
            Row(name: "GET req/s (JSON)", value: { $0.get.perSecond }, higherIsBetter: true, format: "%.0f"),
            Row(name: "GET req/s (protobuf)", value: { $0.getProtobuf.perSecond }, higherIsBetter: true, format: "%.0f"),
            Row(name: "LIST all ms (p50)", value: { $0.list.p50 }, higherIsBetter: false, format: "%.1f"),
            Row(name: "LIST gzip ms (p50)", value: { $0.listGzip.p50 }, higherIsBetter: false, format: "%.1f"),
            Row(name: "LIST gzip MB on wire", value: { $0.listGzipBytes / 1e6 }, higherIsBetter: false, format: "%.3f"),
            Row(name: "LIST paged ms", value: { $0.pagedMs }, higherIsBetter: false, format: "%.1f"),
            Row(name: "PATCH p50 ms, watched", value: { $0.update.patchP50 }, higherIsBetter: false, format: "%.2f"),
            Row(name: "event p50 ms", value: { $0.update.eventP50 }, higherIsBetter: false, format: "%.2f"),
            Row(name: "event p99 ms", value: { $0.update.eventP99 }, higherIsBetter: false, format: "%.2f"),
            Row(name: "churn writes", value: { $0.churn.writes }, higherIsBetter: true, format: "%.0f"),
            Row(name: "churn errors", value: { $0.churn.errors }, higherIsBetter: false, format: "%.0f"),
            Row(name: "churn lag p99 ms", value: { $0.churn.lagP99 }, higherIsBetter: false, format: "%.1f"),
            Row(name: "paced churn writes", value: { $0.pacedChurn.writes }, higherIsBetter: true, format: "%.0f"),
            Row(name: "paced churn lag p50 ms", value: { $0.pacedChurn.lagP50 }, higherIsBetter: false, format: "%.1f"),
            Row(name: "paced churn lag p99 ms", value: { $0.pacedChurn.lagP99 }, higherIsBetter: false, format: "%.1f"),
            Row(name: "RSS idle MiB", value: { $0.rssIdle }, higherIsBetter: false, format: "%.0f"),
            Row(name: "RSS loaded MiB", value: { $0.rssLoaded }, higherIsBetter: false, format: "%.0f"),
        ]
        print("figure".padding(toLength: 24, withPad: " ", startingAt: 0) + "skiff".padding(toLength: 12, withPad: " ", startingAt: 0)
              + (peer == nil ? "" : "peer".padding(toLength: 12, withPad: " ", startingAt: 0) + "ratio (>1: skiff better)"))
        for row in rows {
            let mine = row.value(skiff)
            var line = row.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: row.format, mine).padding(toLength: 12, withPad: " ", startingAt: 0)
            if let peer {
                let theirs = row.value(peer)
                let ratio = row.higherIsBetter ? mine / theirs : theirs / mine
                line += String(format: row.format, theirs).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + (ratio.isFinite ? String(format: "%.2f", ratio) : "-")
            }
            print(line)
        }
        print("(PATCH and events: \(skiff.update.events) of \(skiff.update.expected) events read"
              + (peer.map { ", peer \($0.update.events) of \($0.update.expected)" } ?? "") + ")")
    }
}
