import Models
import XCTest

/// Mini-Gemini's conversations against the prompts MGM's own `mgm/conversation.py` (commit 769820c) renders for
/// the same turns: `conv.append_message(roles[0], "<image>\nWhat is in the image?")`, an answer "A red star.",
/// then "And its size?" (printed by running that file; the strings below are its output).
final class MiniGeminiTemplateTests: XCTestCase {
    let first = [ChatMessage(.user, "<image>\nWhat is in the image?")]
    var second: [ChatMessage] { first + [ChatMessage(.assistant, "A red star."), ChatMessage(.user, "And its size?")] }

    func testGemmaConversationKeepsEosAfterAnswers() {
        XCTAssertEqual(ChatTemplate.mgmGemma.render(first),
                       "<start_of_turn>user\n<image>\nWhat is in the image?<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(ChatTemplate.mgmGemma.render(second),
                       "<start_of_turn>user\n<image>\nWhat is in the image?<end_of_turn>\n<start_of_turn>model\nA red star."
                       + "<end_of_turn>\n<eos><start_of_turn>user\nAnd its size?<end_of_turn>\n<start_of_turn>model\n")
    }

    func testVicunaV1Conversation() {
        let system = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
            + "detailed, and polite answers to the user's questions."
        XCTAssertEqual(ChatTemplate.mgmVicuna.render(first), system + " USER: <image>\nWhat is in the image? ASSISTANT:")
        XCTAssertEqual(ChatTemplate.mgmVicuna.render(second),
                       system + " USER: <image>\nWhat is in the image? ASSISTANT: A red star.</s>USER: And its size? ASSISTANT:")
    }

    func testLlama3ConversationAnswersUnderTheSystemHeader() {
        let head = "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision assistant. You are able "
            + "to understand the visual content that the user provides, and assist the user with a variety of tasks using "
            + "natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nWhat is in the image?<|eot_id|>"
            + "<|start_header_id|>system<|end_header_id|>\n\n"
        XCTAssertEqual(ChatTemplate.mgmLlama3.render(first), head)
        XCTAssertEqual(ChatTemplate.mgmLlama3.render(second),
                       head + "A red star.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnd its size?<|eot_id|>"
                       + "<|start_header_id|>system<|end_header_id|>\n\n")
    }

    func testDetectedFromTheConverterComment() {
        let has: (String) -> Bool = { _ in true }
        XCTAssertEqual(ChatTemplate.detect(templateText: "{# MGM conv_gemma #}<start_of_turn>", architecture: "gemma", hasToken: has), .mgmGemma)
        XCTAssertEqual(ChatTemplate.detect(templateText: "{# MGM conv_vicuna_v1 #} USER: ASSISTANT:", architecture: "llama", hasToken: has), .mgmVicuna)
        XCTAssertEqual(ChatTemplate.detect(templateText: "{# MGM conv_llama_3 #}", architecture: "llama", hasToken: has), .mgmLlama3)
        XCTAssertEqual(ChatTemplate.detect(templateText: "<start_of_turn>", architecture: "gemma", hasToken: has), .gemma)
    }

    /// cli.py: with two or more images, "Image k:" goes in front of each `<image>`; one image is left alone.
    func testSeveralImagesAreNumbered() {
        XCTAssertEqual(ChatTemplate.mgmVicuna.numberingImages("USER: <image>\n<image>\nq"), "USER: Image 1:<image>\nImage 2:<image>\nq")
        XCTAssertEqual(ChatTemplate.mgmVicuna.numberingImages("USER: <image>\nq"), "USER: <image>\nq")
        XCTAssertEqual(ChatTemplate.vicuna.numberingImages("<image><image>"), "<image><image>")
    }
}
