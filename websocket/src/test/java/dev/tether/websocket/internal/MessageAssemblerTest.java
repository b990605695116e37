package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Fragments become messages; the size limit and the fragment rules give the close code to use. */
class MessageAssemblerTest {

    private final List<String> out = new ArrayList<>();
    private final MessageAssembler.Sink sink = new MessageAssembler.Sink() {
        @Override
        public void message(boolean text, byte[] payload) {
            out.add((text ? "text " : "binary ") + new String(payload, StandardCharsets.UTF_8));
        }

        @Override
        public void violation(int code, String reason) {
            out.add(code + " " + reason);
        }
    };

    private static io.netty.buffer.ByteBuf bytes(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fragmentsMakeOneMessageOfTheFirstFramesType() {
        MessageAssembler a = new MessageAssembler(100);
        a.onFrame(false, true, false, bytes("hel"), sink);
        a.onFrame(true, false, false, bytes("lo "), sink);
        assertThat(a.pendingBytes()).isEqualTo(6);
        a.onFrame(true, false, true, bytes("you"), sink);
        a.onFrame(false, false, true, bytes("bin"), sink);
        assertThat(out).containsExactly("text hello you", "binary bin");
        assertThat(a.pendingBytes()).isZero();
    }

    @Test
    void theLimitCountsAllFragmentsAndIsCheckedBeforeCopying() {
        MessageAssembler a = new MessageAssembler(10);
        a.onFrame(false, false, true, bytes("12345678901"), sink);
        a.onFrame(false, false, false, bytes("123456"), sink);
        a.onFrame(true, false, true, bytes("12345"), sink);
        assertThat(out).containsExactly("1009 message of 11 bytes exceeds 10", "1009 message of 11 bytes exceeds 10");
        assertThat(a.pendingBytes()).isZero();
    }

    @Test
    void fragmentRulesAreProtocolErrors() {
        MessageAssembler a = new MessageAssembler(100);
        a.onFrame(true, false, true, bytes("x"), sink);
        a.onFrame(false, true, false, bytes("a"), sink);
        a.onFrame(false, true, true, bytes("b"), sink);
        assertThat(out).containsExactly("1002 continuation frame without a message", "1002 new message before the previous one ended");
    }

    @Test
    void aTextMessageThatIsNotUtf8IsRefusedWith1007EvenWhenACharacterSpansFragments() {
        MessageAssembler a = new MessageAssembler(100);
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8);
        a.onFrame(false, true, false, Unpooled.wrappedBuffer(new byte[] {'a', euro[0]}), sink);
        a.onFrame(true, false, true, Unpooled.wrappedBuffer(new byte[] {euro[1], euro[2]}), sink);
        a.onFrame(false, true, true, Unpooled.wrappedBuffer(new byte[] {'o', 'k', (byte) 0xC0, (byte) 0x80}), sink);
        a.onFrame(false, false, true, Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF}), sink);
        assertThat(out).containsExactly("text a\u20ac", "1007 text message of 4 bytes is not valid UTF-8 (at byte 2)",
                "binary \ufffd");
    }

    @Test
    void utf8CheckRefusesOverlongSurrogatesTruncatedAndOutOfRange() {
        assertThat(MessageAssembler.invalidUtf8At("h\u00e9llo \ud83d\ude00 \u20ac".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
        assertThat(MessageAssembler.invalidUtf8At(new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0x80})).as("overlong").isZero();
        assertThat(MessageAssembler.invalidUtf8At(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})).as("surrogate").isZero();
        assertThat(MessageAssembler.invalidUtf8At(new byte[] {'x', (byte) 0xE2, (byte) 0x82})).as("truncated").isEqualTo(1);
        assertThat(MessageAssembler.invalidUtf8At(new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80})).as("beyond U+10FFFF").isZero();
        assertThat(MessageAssembler.invalidUtf8At(new byte[] {(byte) 0x80})).as("lone continuation").isZero();
    }
}
