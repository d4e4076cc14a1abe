/// A stacked bar chart drawn as inline SVG on the server, followed by a table with the same
/// numbers (the chart is `role="img"` with a title and description; the table is what a screen
/// reader or a copy takes).
package struct SVGChart: Sendable {
    /// One stack: a label on the x axis and a value per series.
    package struct Bar: Sendable, Hashable {
        package var label: String
        package var values: [Int]

        package init(label: String, values: [Int]) {
            self.label = label
            self.values = values
        }
    }

    package var id: String
    package var title: String
    package var series: [String]
    package var bars: [Bar]

    package init(id: String, title: String, series: [String], bars: [Bar]) {
        self.id = id
        self.title = title
        self.series = series
        self.bars = bars
    }

    /// Eight fills distinguishable in print and for common colour-vision deficiencies (Okabe–Ito).
    static let fills = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
    /// Series beyond the palette share the last fill; the table tells them apart.
    static func fill(_ index: Int) -> String { fills[min(index, fills.count - 1)] }

    package var total: Int { bars.reduce(0) { $0 + $1.values.reduce(0, +) } }

    /// The chart and its table.
    package var html: HTML {
        let width = 720, height = 260, left = 48, bottom = 40, top = 12, right = 12
        let plotHeight = height - top - bottom
        let plotWidth = width - left - right
        let highest = max(1, bars.map { $0.values.reduce(0, +) }.max() ?? 1)
        let step = bars.isEmpty ? plotWidth : plotWidth / bars.count
        let barWidth = max(1, step * 7 / 10)
        var shapes: [HTML] = []
        for (index, bar) in bars.enumerated() {
            var base = 0
            let x = left + index * step + (step - barWidth) / 2
            for (seriesIndex, value) in bar.values.enumerated() where value > 0 {
                let y0 = top + plotHeight - (base * plotHeight) / highest
                base += value
                let y1 = top + plotHeight - (base * plotHeight) / highest
                let name = seriesIndex < series.count ? series[seriesIndex] : ""
                shapes.append("<rect x=\"\(x)\" y=\"\(y1)\" width=\"\(barWidth)\" height=\"\(max(1, y0 - y1))\" fill=\"\(attribute: Self.fill(seriesIndex))\"><title>\(bar.label): \(name) \(value)</title></rect>")
            }
        }
        // Axis labels: the first, the last and a few between, so that they do not overlap.
        let labelEvery = max(1, bars.count / 6)
        var labels: [HTML] = []
        for (index, bar) in bars.enumerated() where index % labelEvery == 0 || index == bars.count - 1 {
            let x = left + index * step + step / 2
            labels.append("<text x=\"\(x)\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(bar.label)</text>")
        }
        let axis: HTML = """
            <line x1="\(left)" y1="\(top + plotHeight)" x2="\(width - right)" y2="\(top + plotHeight)" stroke="#0b0c0c"/>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(top + plotHeight)" stroke="#0b0c0c"/>
            <text x="\(left - 6)" y="\(top + 10)" text-anchor="end" font-size="11">\(highest)</text>
            <text x="\(left - 6)" y="\(top + plotHeight)" text-anchor="end" font-size="11">0</text>
            """
        let legend: [HTML] = series.enumerated().map { index, name in
            "<li><svg width=\"12\" height=\"12\" aria-hidden=\"true\" focusable=\"false\"><rect width=\"12\" height=\"12\" fill=\"\(attribute: Self.fill(index))\"/></svg> \(name)</li>"
        }
        let headers: [HTML] = series.map { "<th scope=\"col\">\($0)</th>" }
        let rows: [HTML] = bars.map { bar in
            let cells: [HTML] = bar.values.map { "<td>\($0)</td>" }
            return "<tr><th scope=\"row\">\(bar.label)</th>\(cells)<td>\(bar.values.reduce(0, +))</td></tr>\n"
        }
        return """
            <figure class="chart" id="\(attribute: id)">
            <figcaption id="\(attribute: id)-title">\(title)</figcaption>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(width) \(height)" width="100%" role="img" aria-labelledby="\(attribute: id)-title \(attribute: id)-desc">
            <desc id="\(attribute: id)-desc">\(total) in all over \(bars.count) day(s); the table below gives every number.</desc>
            \(axis)
            \(shapes)
            \(labels)
            </svg>
            <ul class="legend">\(legend)</ul>
            </figure>
            <div class="table-wrap"><table class="chart-data" id="\(attribute: id)-table">
            <caption>\(title): the numbers</caption>
            <thead><tr><th scope="col">Day</th>\(headers)<th scope="col">Total</th></tr></thead>
            <tbody>\(rows)</tbody>
            </table></div>
            """
    }
}
