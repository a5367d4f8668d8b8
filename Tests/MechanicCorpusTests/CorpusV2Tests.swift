import XCTest
@testable import MechanicCorpus
import MechanicTensor

/// Corpus v2: IOI stories, narratives, varied greater-than and docstring documents, and token-level
/// repeat documents, without the position, slot and vocabulary cues of v1.
final class CorpusV2Tests: XCTestCase {
    func testVersion2MixIsReproducibleAndDrawsEveryFamily() {
        let docs = CorpusGenerator(seed: 9, mix: .version2).documents(600)
        XCTAssertEqual(docs, CorpusGenerator(seed: 9, mix: .version2).documents(600))
        XCTAssertEqual(Set(docs.map(\.kind)), [.ioiStory, .narrative, .greaterThanStory, .docstringVaried])
        let narrativeShare = Double(docs.filter { $0.kind == .narrative }.count) / Double(docs.count)
        XCTAssertEqual(narrativeShare, 0.4, accuracy: 0.06, "a language-model share of 30–50%")
        for doc in docs { XCTAssertEqual(CorpusSplit.of(prompt: doc.prompt), .train) }
        // v1 mixtures draw exactly what they always drew (the new families were appended).
        XCTAssertEqual(CorpusGenerator(seed: 42).documents(8).map(\.answer), GeneratorTests.frozenAnswers)
    }

    /// Episodes in a document: every answered episode ends "to NAME." or "for NAME." (an episode
    /// whose answer repeats a name goes on "NAME thanked S."), and the last one is unanswered
    /// unless the prompt stops at "thanked".
    private func episodes(_ sample: TaskSample) -> Int {
        let words = sample.prompt.split(separator: " ")
        let names = Set(Lexicon.names)
        let answered = words.indices.dropFirst().dropLast().filter { i in
            (words[i] == "to" && words[i - 1] != "next" || words[i] == "for")  // not "sat next to B."
                && words[i + 1].hasSuffix(".") && names.contains(String(words[i + 1].dropLast()))
        }.count
        return answered + (sample.prompt.hasSuffix(" thanked") ? 0 : 1)
    }

    func testDenseIOIStoriesHoldTwoToFourEpisodesAndTheV2FamilyDrawsAsBefore() {
        var rng = SeededRandom(seed: 3), dense = [Int](), plain = [Int]()
        for _ in 0..<300 { dense.append(episodes(IOIStoryFamily.dense.sample(using: &rng))) }
        rng = SeededRandom(seed: 3)
        for _ in 0..<300 { plain.append(episodes(IOIStoryFamily().sample(using: &rng))) }
        XCTAssertEqual(IOIStoryFamily.dense.kind, .ioiStoryDense)
        XCTAssertGreaterThanOrEqual(dense.min()!, 2)
        XCTAssertEqual(plain.min()!, 1)
        let mean = { (xs: [Int]) in Double(xs.reduce(0, +)) / Double(xs.count) }
        XCTAssertGreaterThan(mean(dense), 1.6 * mean(plain), "dense documents carry more IOI answers")
        // The v2 corpus is unchanged: its IOI family still draws one to three episodes.
        XCTAssertEqual(IOIStoryFamily().episodeCounts, [1, 1, 1, 2, 2, 3])
        let docs = CorpusGenerator(seed: 9, mix: .version2IOI).documents(600)
        XCTAssertEqual(Set(docs.map(\.kind)), [.ioiStoryDense, .narrative, .greaterThanStory, .docstringVaried])
        let narrativeShare = Double(docs.filter { $0.kind == .narrative }.count) / Double(docs.count)
        XCTAssertEqual(narrativeShare, 0.3, accuracy: 0.06, "a language-model share of 30–50%")
    }

    func testDrillDocumentsPackFourToEightBareEpisodes() {
        var rng = SeededRandom(seed: 4)
        var words = 0, episodeTotal = 0, denseWords = 0, denseEpisodes = 0
        for _ in 0..<300 {
            let drill = IOIStoryFamily.drill.sample(using: &rng)
            XCTAssertEqual(drill.kind, .ioiDrill)
            let count = episodes(drill)
            XCTAssertTrue((4...8).contains(count), "\(count) episodes: \(drill.prompt)")
            (words, episodeTotal) = (words + drill.text.split(separator: " ").count, episodeTotal + count)
            let dense = IOIStoryFamily.dense.sample(using: &rng)
            (denseWords, denseEpisodes) = (denseWords + dense.text.split(separator: " ").count, denseEpisodes + episodes(dense))
        }
        let perEpisode = Double(words) / Double(episodeTotal), densePerEpisode = Double(denseWords) / Double(denseEpisodes)
        XCTAssertLessThan(perEpisode, 16, "bare episodes: introduction and ending only")
        XCTAssertLessThan(perEpisode, 0.75 * densePerEpisode, "no filler sentences or distractors")
        let docs = CorpusGenerator(seed: 9, mix: .version2Drill).documents(600)
        XCTAssertEqual(Set(docs.map(\.kind)), [.ioiDrill, .ioiStoryDense, .narrative, .greaterThanStory, .docstringVaried])
    }

    func testIOIStoriesVaryTheSlotOfS2AndTheDistanceToTheEnd() {
        var rng = SeededRandom(seed: 1)
        var distances = Set<Int>(), endings = Set<Int>(), introductions = Set<String>()
        for _ in 0..<400 {
            var used = Set<String>()
            let story = IOIStoryFamily().story(using: &rng, avoiding: &used)
            let clean = story.prompt(secondSubject: story.subject)
            let words = clean.split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) }
            // S appears at least twice, IO once; the twin swaps only the later mentions of S.
            XCTAssertGreaterThanOrEqual(words.filter { $0 == story.subject }.count, 2, clean)
            XCTAssertEqual(words.filter { $0 == story.indirectObject }.count, 1, clean)
            let twin = story.prompt(secondSubject: "Zed").split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters) }
            XCTAssertEqual(twin.filter { $0 == story.subject }.count, 1, clean)
            distances.insert(words.count - 1 - words.lastIndex(of: story.subject)!)
            endings.insert(story.ending)
            introductions.insert("\(story.subordinate)-\(story.introduction)")
        }
        XCTAssertGreaterThanOrEqual(distances.count, 6, "S2 → END distance takes many values")
        XCTAssertEqual(endings.count, IOIStoryFamily.endings.count)
        XCTAssertEqual(introductions.count, IOIStoryFamily.introductions.count + IOIStoryFamily.subordinateIntroductions.count)
    }

    func testIOIStoryDocumentsSometimesRepeatANameAsTheAnswer() {
        var rng = SeededRandom(seed: 2)
        var repeated = 0, fresh = 0
        for _ in 0..<300 {
            let s = IOIStoryFamily().sample(using: &rng)
            let name = String(s.answer.dropFirst())
            let mentions = s.prompt.split(separator: " ").filter { $0.trimmingCharacters(in: .punctuationCharacters) == name }.count
            XCTAssertGreaterThanOrEqual(mentions, 1, s.prompt)
            if mentions >= 2 { repeated += 1 } else { fresh += 1 }
        }
        XCTAssertGreaterThan(repeated, 20, "answers that repeat an earlier name")
        XCTAssertGreaterThan(fresh, 150, "IOI answers")
    }

    func testRepeatDocumentsRepeatSpansFromTheWholeVocabulary() {
        let repeats = RepeatDocuments(vocabularySize: 500, excluded: [0, 499])
        var rng = SeededRandom(seed: 3)
        var seen = Set<Int>()
        var repeatedBigrams = 0, bigrams = 0
        for _ in 0..<50 {
            let doc = repeats.document(text: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]], using: &rng)
            XCTAssertGreaterThanOrEqual(doc.count, RepeatDocuments.lengths.lowerBound)
            XCTAssertFalse(doc.contains(0) || doc.contains(499))
            seen.formUnion(doc)
            var earlier = Set<[Int]>()
            for i in 1..<doc.count {
                let pair = [doc[i - 1], doc[i]]
                if earlier.contains(pair) { repeatedBigrams += 1 }
                earlier.insert(pair)
                bigrams += 1
            }
        }
        XCTAssertGreaterThan(seen.count, 450, "spans come from the whole vocabulary")
        XCTAssertGreaterThan(Double(repeatedBigrams) / Double(bigrams), 0.3, "most of a document repeats something earlier")
        var a = SeededRandom(seed: 4), b = SeededRandom(seed: 4)
        XCTAssertEqual(repeats.document(text: [], using: &a), repeats.document(text: [], using: &b))
    }

    func testGreaterThanAndDocstringDocumentsVaryTheirLayout() {
        var rng = SeededRandom(seed: 5)
        var startOffsets = Set<Int>()
        for _ in 0..<200 {
            let s = GreaterThanStoryFamily().sample(using: &rng)
            XCTAssertGreaterThan(Int(s.answer)!, Int(s.prompt.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.first { $0 >= 1000 }! % 100))
            startOffsets.insert(s.prompt.count - (s.prompt.range(of: #"\d{4}"#, options: .regularExpression)!.lowerBound.utf16Offset(in: s.prompt)))
        }
        XCTAssertGreaterThan(startOffsets.count, 50, "the start year sits at many distances from the end")
        var counts = Set<Int>()
        for _ in 0..<200 {
            let s = DocstringVariedFamily().sample(using: &rng)
            let signature = s.prompt[s.prompt.range(of: "def ", options: .backwards)!.upperBound...].prefix { $0 != ")" }
            counts.insert(signature.split(separator: ",").count)
            XCTAssertTrue(signature.contains(s.answer.trimmingCharacters(in: .whitespaces)))
        }
        XCTAssertGreaterThanOrEqual(counts.count, 6)
    }
}
