import Models
import XCTest

final class SamplerAndTemplateTests: XCTestCase {
    func testGreedyAndSeededSampling() {
        var logits: [Float] = [0.1, 2.0, 1.9, -1, 0.5]
        var greedy = Sampler(.greedy)
        XCTAssertEqual(logits.withUnsafeMutableBufferPointer { greedy.sample($0.baseAddress!, count: 5, history: []) }, 1)
        var p = SamplingParameters(); p.seed = 42; p.temperature = 1; p.topK = 0; p.topP = 1; p.minP = 0
        func draws() -> [Int32] {
            var s = Sampler(p)
            return (0 ..< 50).map { _ in var l = logits; return l.withUnsafeMutableBufferPointer { s.sample($0.baseAddress!, count: 5, history: []) } }
        }
        XCTAssertEqual(draws(), draws(), "same seed, same draws")
        XCTAssertGreaterThan(Set(draws()).count, 1, "temperature 1 draws more than one token")
        p.topK = 1
        var topOne = Sampler(p)
        XCTAssertEqual(logits.withUnsafeMutableBufferPointer { topOne.sample($0.baseAddress!, count: 5, history: []) }, 1)
        // A strong repetition penalty moves greedy off a repeated token.
        var penal = SamplingParameters.greedy; penal.repeatPenalty = 10
        var s = Sampler(penal)
        XCTAssertEqual(logits.withUnsafeMutableBufferPointer { s.sample($0.baseAddress!, count: 5, history: [1]) }, 2)
    }

    func testTemplates() {
        let m = [ChatMessage(.user, "hi"), ChatMessage(.assistant, "hello"), ChatMessage(.user, "bye")]
        XCTAssertEqual(ChatTemplate.gemma.render(m),
                       "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\nhello<end_of_turn>\n<start_of_turn>user\nbye<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(ChatTemplate.chatml.render([ChatMessage(.user, "hi")]), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.minigptv2.render([ChatMessage(.user, "<Img><ImageHere></Img> [vqa] what?")]),
                       "<s>[INST] <Img><ImageHere></Img> [vqa] what? [/INST]")
        XCTAssertTrue(ChatTemplate.vicuna.render(m).hasSuffix("USER: hi ASSISTANT: hello</s>USER: bye ASSISTANT:"))
        XCTAssertTrue(ChatTemplate.minigpt4.render([ChatMessage(.user, "q")]).hasSuffix("###Human: q###Assistant: "))
        XCTAssertEqual(ChatTemplate.detect(templateText: "{{<|im_start|>}}", architecture: "llama", hasToken: { _ in false }), .chatml)
        XCTAssertEqual(ChatTemplate.detect(templateText: nil, architecture: "gemma3", hasToken: { _ in false }), .gemma)
    }

    /// MiniGPT-4's two conversations (conversation.py, `Conversation.get_prompt` with SeparatorStyle.SINGLE:
    /// system + sep, then role + message + sep per turn, the open assistant role last), with `Chat.ask` joining the
    /// question to the image message with one space.
    func testMiniGPT4TemplatesAreItsConversations() {
        let system = "Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it to you. Please answer my questions."
        let m = [ChatMessage(.user, "<Img><ImageHere></Img> What is this?"), ChatMessage(.assistant, "A cat."), ChatMessage(.user, "Why?")]
        // CONV_VISION_Vicuna0: roles "Human: " / "Assistant: ", sep "###".
        XCTAssertEqual(ChatTemplate.minigpt4.render(m),
                       system + "###Human: <Img><ImageHere></Img> What is this?###Assistant: A cat.###Human: Why?###Assistant: ")
        // CONV_VISION_LLama2: roles "<s>[INST] " / " [/INST] ", sep "".
        XCTAssertEqual(ChatTemplate.minigpt4llama2.render(m),
                       system + "<s>[INST] <Img><ImageHere></Img> What is this? [/INST] A cat.<s>[INST] Why? [/INST] ")
        XCTAssertEqual(ChatTemplate.minigpt4llama2.stopStrings, ["###", "[INST]"])
        // The converters' template texts (tools/convert_minigpt.py) are told apart from MiniGPT-v2's.
        let none: (String) -> Bool = { _ in false }
        XCTAssertEqual(ChatTemplate.detect(templateText: "{{ 'Give the following image: ...' }}###Human: {{ m['content'] }}", architecture: "llama", hasToken: none), .minigpt4)
        XCTAssertEqual(ChatTemplate.detect(templateText: "{{ 'Give the following image: ...' }}<s>[INST] {{ m['content'] }} [/INST] ", architecture: "llama", hasToken: none), .minigpt4llama2)
        XCTAssertEqual(ChatTemplate.detect(templateText: "<s>[INST] {{ m['content'] }} [/INST]", architecture: "llama", hasToken: none), .minigptv2)
        XCTAssertEqual(ChatTemplate.allCases.filter(\.understandsTaskTags), [.minigptv2])
    }

    func testAnEarlierAnswerGoesBackAsTheTemplateWritesIt() {
        // An answer as streamed from a SentencePiece vocabulary ("▁3" -> " 3") must not become "[/INST]  3".
        for template in ChatTemplate.allCases {
            let streamed = [ChatMessage(.user, "q"), ChatMessage(.assistant, " 3 \n"), ChatMessage(.user, "again")]
            let clean = [ChatMessage(.user, "q"), ChatMessage(.assistant, "3"), ChatMessage(.user, "again")]
            XCTAssertEqual(template.render(streamed), template.render(clean), "\(template)")
        }
        XCTAssertEqual(ChatTemplate.minigptv2.render([ChatMessage(.user, "q"), ChatMessage(.assistant, " 3")]), "<s>[INST] q [/INST] 3</s>")
    }
}

final class SamplerSelectionTests: XCTestCase {
    func testTopKMatchesFullSortAndIsSeedStable() {
        var rng = SystemRandomNumberGenerator()
        let logits = (0 ..< 50_000).map { _ in Float.random(in: -10 ... 10, using: &rng) }
        var p = SamplingParameters()
        p.seed = 7; p.topK = 40; p.topP = 1; p.minP = 0; p.temperature = 0.7
        // With top-k 40 every draw must be among the 40 largest logits.
        let best40 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(40).map { Int32($0) })
        var s = Sampler(p)
        for _ in 0 ..< 200 {
            var l = logits
            let t = l.withUnsafeMutableBufferPointer { s.sample($0.baseAddress!, count: $0.count, history: []) }
            XCTAssertTrue(best40.contains(t))
        }
    }
}
