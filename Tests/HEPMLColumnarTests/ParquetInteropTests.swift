import Foundation
import HEPMLCore
import HEPMLTestSupport
import Testing
@testable import HEPMLColumnar

@Suite struct ParquetInteropTests {
    /// pyarrow, pandas and awkward read our file with the same values and Arrow types.
    @Test(.requiresPython, arguments: [1, 2])
    func pythonReadsOurs(dataPageVersion: Int) throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try sampleTable(rows: 60)
        let path = directory.appendingPathComponent("ours.parquet").path
        try Parquet.write(table, to: path, options: ParquetWriteOptions(rowGroupSize: 25, dataPageVersion: dataPageVersion))
        // The expected values, written independently as JSON by our row accessor.
        var expected: [String: [Any]] = [:]
        for column in table.columns { expected[column.name] = (0..<table.rowCount).map { Self.json(column[$0]) } }
        let jsonPath = directory.appendingPathComponent("expected.json").path
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: jsonPath))
        let script = """
        import json, sys, math
        import pyarrow as pa, pyarrow.parquet as pq, pandas as pd, awkward as ak
        path, expected_path = sys.argv[1], sys.argv[2]
        expected = json.load(open(expected_path))
        t = pq.read_table(path)
        types = {f.name: str(f.type) for f in t.schema}
        want = {
            'run_number': 'int64', 'year': 'string', 'label': 'int64', 'score': 'double', 'lumi': 'int32',
            'f32': 'float', 'good': 'bool',
            'L1T/L1TStage2CaloLayer1/ecalOccupancy': 'list<element: float>',
            'L1T/timing/first_bunch': 'list<element: list<element: float>>',
            'L1T/h1_reco_pca': 'list<element: double>', 'counts': 'list<element: int32>',
            'nested_ids': 'list<element: list<element: int64>>',
        }
        assert types == want, types
        def close(a, b):
            if isinstance(a, list): return isinstance(b, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
            if isinstance(a, float) or isinstance(b, float): return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6)
            return a == b
        for name, values in expected.items():
            got = t.column(name).to_pylist()
            assert close(got, values), (name, got[:5], values[:5])
        md = pq.read_metadata(path)
        assert md.num_row_groups == 3 and md.metadata[b'note'].decode() == 'ünïcode'
        st = md.row_group(0).column(0).statistics
        assert st.min == 355000 and st.max == 355024 and st.null_count == 0, (st.has_min_max, st.min, st.max, st.null_count, st.physical_type)
        df = pd.read_parquet(path)
        assert list(df['run_number']) == expected['run_number'] and len(df) == 60
        assert close([[float(v) for v in inner] for inner in df['L1T/timing/first_bunch'].iloc[1]], expected['L1T/timing/first_bunch'][1])
        assert df['L1T/L1TStage2CaloLayer1/ecalOccupancy'].iloc[3] is None and str(df['year'].dtype) in ('object', 'str', 'string')
        a = ak.from_parquet(path)
        assert str(ak.type(a['L1T/timing/first_bunch'])).endswith('option[var * option[var * ?float32]]'), str(ak.type(a['L1T/timing/first_bunch']))
        assert close(ak.to_list(a['L1T/timing/first_bunch']), expected['L1T/timing/first_bunch'])
        print('ok')
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [path, jsonPath])
        #expect(result.status == 0, "\(result.output)")
    }

    /// We read what pyarrow and awkward write with their defaults and with the other page options.
    @Test(.requiresPython) func weReadPyarrowFiles() throws {
        let python = try TestEnvironment.python()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = """
        import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq, awkward as ak
        d = sys.argv[1]
        rng = np.random.default_rng(1)
        n = 500
        h1 = [None if i % 13 == 4 else rng.poisson(3, size=i % 6).astype(np.float32).tolist() for i in range(n)]
        h2 = [[rng.normal(size=3).astype(np.float32).tolist() for _ in range(i % 3)] for i in range(n)]
        t = pa.table({
            'run_number': pa.array(np.arange(n, dtype=np.int64) + 300000),
            'year': pa.array([None if i % 17 == 0 else str(2016 + i % 3) for i in range(n)]),
            'label': pa.array([i % 2 for i in range(n)], type=pa.int64()),
            'score': pa.array([None if i % 5 == 0 else i / 7 for i in range(n)], type=pa.float64()),
            'ok': pa.array([i % 3 == 0 for i in range(n)]),
            'small': pa.array(np.arange(n) % 100, type=pa.int32()),
            'h1': pa.array(h1, type=pa.list_(pa.float32())),
            'h2': pa.array(h2, type=pa.list_(pa.list_(pa.float32()))),
        })
        pq.write_table(t, d + '/default.parquet', row_group_size=200)
        pq.write_table(t, d + '/zstd.parquet', compression='zstd')
        pq.write_table(t, d + '/plain.parquet', use_dictionary=False)
        pq.write_table(t, d + '/v2.parquet', data_page_version='2.0', compression='snappy', data_page_size=1000)
        pq.write_table(t, d + '/none.parquet', compression='none', data_page_version='2.0', use_dictionary=False)
        ak.to_parquet(ak.Array({'h1': ak.Array(h1), 'h2': ak.Array(h2), 'run_number': np.arange(n) + 300000}), d + '/awkward.parquet')
        # Reference values in a format the Swift side parses trivially.
        with open(d + '/expected.txt', 'w') as f:
            for i in range(n):
                f.write(repr(t.slice(i, 1).to_pylist()[0]) + '\\n')
        pq.write_table(pa.table({'ts': pa.array([1, 2], type=pa.timestamp('ms')), 'x': [1.0, 2.0]}), d + '/timestamp.parquet')
        print('ok')
        """
        let result = try TestEnvironment.runPython(python, script: script, arguments: [directory.path])
        try #require(result.status == 0, "\(result.output)")
        let expectedLines = try String(contentsOfFile: directory.appendingPathComponent("expected.txt").path, encoding: .utf8).split(separator: "\n").map(String.init)
        for name in ["default", "zstd", "plain", "v2", "none"] {
            let file = try ParquetFile(path: directory.appendingPathComponent("\(name).parquet").path)
            let table = try file.read()
            #expect(table.schema.map(\.type) == [.int64, .string, .int64, .float64, .bool, .int32, .list(.float32), .listOfLists(.float32)], "\(name)")
            #expect(table.rowCount == 500)
            for row in [0, 1, 4, 5, 17, 250, 499] {
                #expect(Self.pythonRepr(table, row: row) == expectedLines[row], "\(name) row \(row)")
            }
        }
        #expect(try ParquetFile(path: directory.appendingPathComponent("default.parquet").path).rowGroupRowCounts == [200, 200, 100])
        let awkward = try Parquet.read(path: directory.appendingPathComponent("awkward.parquet").path)
        let reference = try Parquet.read(path: directory.appendingPathComponent("default.parquet").path, columns: ["h1", "h2"])
        #expect(awkward["h1"]?.leafValuesAsFloat() == reference["h1"]?.leafValuesAsFloat())
        #expect(awkward["h2"]?.listOffsets == reference["h2"]?.listOffsets)
        let timestamps = try ParquetFile(path: directory.appendingPathComponent("timestamp.parquet").path)
        #expect(try timestamps.read(columns: ["x"])["x"]?.float64Values == [1, 2])
        do {
            _ = try timestamps.read()
            Issue.record("timestamp column should be refused")
        } catch let error as FileFormatError {
            #expect(error.object == "column ts" && error.reason.contains("TIMESTAMP"))
        }
    }

    static func json(_ value: Value) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let v): return v
        case .int32(let v): return v
        case .int64(let v): return v
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .string(let v): return v
        case .list(let items): return items.map(json)
        }
    }

    /// The Python repr of a row dict, as `to_pylist()` prints it.
    static func pythonRepr(_ table: Table, row: Int) -> String {
        func repr(_ value: Value) -> String {
            switch value {
            case .null: return "None"
            case .bool(let v): return v ? "True" : "False"
            case .int32(let v): return String(v)
            case .int64(let v): return String(v)
            case .float32(let v): return pythonFloat(Double(v))
            case .float64(let v): return pythonFloat(v)
            case .string(let v): return "'\(v)'"
            case .list(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
            }
        }
        return "{" + table.columns.map { "'\($0.name)': \(repr($0[row]))" }.joined(separator: ", ") + "}"
    }

    static func pythonFloat(_ value: Double) -> String {
        var text = "\(value)"
        if let e = text.firstIndex(of: "e") {
            let exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e]).replacingOccurrences(of: ".0", with: "") + "e" + (exponent < 0 ? "-" : "+") + String(format: "%02d", abs(exponent))
        }
        return text
    }
}
