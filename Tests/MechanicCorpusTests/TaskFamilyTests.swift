import MechanicTensor
import XCTest
@testable import MechanicCorpus

final class TaskFamilyTests: XCTestCase {
    /// `count` samples of one family straight from its generator (both splits).
    private func samples(_ kind: TaskFamilyKind, _ count: Int = 2_000) -> [TaskSample] {
        var rng = SeededRandom(seed: 77)
        let family = kind.family
        return (0..<count).map { _ in family.sample(using: &rng) }
    }

    func testRegistryListsEveryFamilyOnce() {
        XCTAssertEqual(TaskFamilyKind.allCases.map(\.family.kind), TaskFamilyKind.allCases)
        XCTAssertEqual(
            TaskFamilyKind.allCases.map(\.rawValue),
            ["ioi", "greater_than", "docstring", "induction", "filler",
             "ioi_story", "greater_than_story", "docstring_varied", "narrative", "ioi_story_dense", "ioi_drill"]
        )
        for kind in TaskFamilyKind.allCases {
            XCTAssertTrue(samples(kind, 50).allSatisfy { $0.kind == kind })
        }
    }

    func testIOIAnswerIsTheNameThatIsNotRepeated() {
        let names = Set(Lexicon.names)
        for sample in samples(.ioi) {
            XCTAssertTrue(sample.prompt.hasSuffix(" to"), sample.prompt)
            XCTAssertEqual(sample.completion, ".")
            let words = sample.prompt.split { !$0.isLetter }.map(String.init).filter(names.contains)
            XCTAssertEqual(words.count, 3, sample.prompt)
            let io = words.filter { w in words.filter { $0 == w }.count == 1 }
            XCTAssertEqual(io.count, 1, sample.prompt)
            XCTAssertEqual(sample.answer, " " + io[0])
        }
    }

    func testIOIHasBothOrdersAndEveryTemplate() {
        var rng = SeededRandom(seed: 5)
        var orders = Set<IOIExample.Order>()
        var templates = Set<Int>()
        for _ in 0..<2_000 {
            let example = IOIFamily().example(using: &rng)
            orders.insert(example.order)
            templates.insert(example.template)
            XCTAssertNotEqual(example.subject, example.indirectObject)
            XCTAssertEqual(example.sample.answer, " " + example.indirectObject)
        }
        XCTAssertEqual(orders, [.abba, .baba])
        XCTAssertEqual(templates.count, IOIFamily.templates.count)
        XCTAssertGreaterThanOrEqual(IOIFamily.templates.count, 15)
    }

    func testIOIExampleIsBuiltFromItsChoices() {
        let abba = IOIFamily().example(
            template: 0, order: .abba, indirectObject: "Mary", subject: "John", place: "store", object: "drink"
        )
        XCTAssertEqual(abba.sample.text, "When Mary and John went to the store, John gave a drink to Mary.")
        let baba = IOIFamily().example(
            template: 0, order: .baba, indirectObject: "Mary", subject: "John", place: "store", object: "drink"
        )
        XCTAssertEqual(baba.sample.prompt, "When John and Mary went to the store, John gave a drink to")
        XCTAssertEqual(baba.sample.answer, " Mary")
    }

    func testIOITemplatesUseOnlyKnownSlots() {
        for template in IOIFamily.templates {
            let slots = Set(Template(template).slots)
            XCTAssertTrue(slots.isSubset(of: ["A", "B", "S", "PLACE", "OBJECT"]), template)
            XCTAssertTrue(slots.isSuperset(of: ["A", "B", "S"]), template)
            XCTAssertTrue(template.hasSuffix(" to"), template)
        }
    }

    func testGreaterThanEndYearIsLater() throws {
        for sample in samples(.greaterThan) {
            let numbers = sample.prompt.split(separator: " ").compactMap { Int($0) }
            XCTAssertEqual(numbers.count, 2, sample.prompt)
            let (start, century) = (numbers[0], numbers[1])
            XCTAssertTrue((1102...1998).contains(start), sample.prompt)
            XCTAssertEqual(start / 100, century)
            XCTAssertTrue(GreaterThanFamily.centuries.contains(century))
            XCTAssertEqual(sample.answer.count, 2)
            let end = try XCTUnwrap(Int(sample.answer))
            XCTAssertGreaterThan(end, start % 100, sample.text)
            XCTAssertTrue(sample.text.contains(" \(century)\(sample.answer)."), sample.text)
            XCTAssertTrue(sample.prompt.hasPrefix("The "))
        }
    }

    func testGreaterThanExample() {
        let example = GreaterThanFamily().example(template: 0, noun: "war", century: 17, start: 5, end: 32)
        XCTAssertEqual(example.sample.prompt, "The war lasted from the year 1705 to the year 17")
        XCTAssertEqual(example.sample.answer, "32")
        XCTAssertEqual(GreaterThanFamily.twoDigits(3), "03")
    }

    func testDocstringAnswerIsTheNextParameter() {
        for sample in samples(.docstring) {
            let lines = sample.prompt.split(separator: "\n", omittingEmptySubsequences: false)
            let def = lines[0]
            XCTAssertTrue(def.hasPrefix("def ") && def.hasSuffix("):"), String(def))
            let inside = def[def.index(after: def.firstIndex(of: "(")!)..<def.index(def.endIndex, offsetBy: -2)]
            let params = inside.components(separatedBy: ", ")
            XCTAssertEqual(params.first, "self")
            let signature = Array(params.dropFirst())
            XCTAssertTrue(DocstringFamily.parameterCounts.contains(signature.count))
            XCTAssertEqual(Set(signature).count, signature.count)
            let documented = lines.filter { $0.hasPrefix("    :param ") }.map {
                String($0.dropFirst("    :param ".count).prefix { $0 != ":" })
            }
            XCTAssertGreaterThanOrEqual(documented.count, 1)
            XCTAssertEqual(documented, Array(signature.prefix(documented.count)))
            XCTAssertTrue(sample.prompt.hasSuffix("\n    :param"))
            XCTAssertEqual(sample.answer, " " + signature[documented.count])
            XCTAssertTrue(sample.completion.hasSuffix("    \"\"\""))
            // The whole docstring documents every parameter in order.
            let all = sample.text.split(separator: "\n").filter { $0.hasPrefix("    :param ") }
            XCTAssertEqual(all.count, signature.count)
        }
    }

    func testInductionAnswerContinuesTheRepeat() {
        for sample in samples(.induction) {
            var words = sample.prompt.split(separator: " ").map(String.init)
            XCTAssertTrue(InductionFamily.openers.contains(words.removeFirst()))
            let full = (sample.prompt + sample.answer + sample.completion.dropLast()).split(separator: " ").dropFirst()
            XCTAssertEqual(full.count % 2, 0)
            let run = Array(full.prefix(full.count / 2))
            XCTAssertEqual(Array(full.suffix(full.count / 2)), run)
            XCTAssertEqual(Set(run).count, run.count)
            XCTAssertTrue(InductionFamily.runLengths.contains(run.count))
            let seen = words.count - run.count
            XCTAssertGreaterThanOrEqual(seen, 1)
            XCTAssertEqual(sample.answer, " " + run[seen])
            XCTAssertTrue(sample.completion.hasSuffix("."))
        }
    }

    func testFillerIsSentences() {
        for sample in samples(.filler) {
            XCTAssertEqual(sample.completion, ".")
            XCTAssertTrue(sample.answer.hasPrefix(" "))
            XCTAssertFalse(sample.answer.dropFirst().contains(" "))
            let sentences = sample.text.split(separator: ".")
            XCTAssertTrue(FillerFamily.sentenceCounts.contains(sentences.count), sample.text)
            XCTAssertFalse(sample.text.contains("  "))
            XCTAssertFalse(sample.text.contains(" ."))
            XCTAssertTrue(sample.text.first!.isUppercase, sample.text)
        }
    }

    func testTemplateParsesSlots() {
        let t = Template("{A} met {B} at the {PLACE}.")
        XCTAssertEqual(t.slots, ["A", "B", "PLACE"])
        XCTAssertEqual(t.render { $0.lowercased() }, "a met b at the place.")
        XCTAssertEqual(Template("no slots").render { _ in "x" }, "no slots")
    }
}
