package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void writesNestedValuesWithEscapesAndNulls() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a \"quoted\"\nline\\");
        m.put("n", 3);
        m.put("x", 1.23456789);
        m.put("whole", 2.0);
        m.put("nan", Double.NaN);
        m.put("none", null);
        m.put("ok", true);
        m.put("list", Arrays.asList(1, null, "s"));
        String json = Json.write(m).replaceAll("\\s+", "");
        assertThat(json).isEqualTo("{\"name\":\"a\\\"quoted\\\"\\nline\\\\\",\"n\":3,\"x\":1.2346,\"whole\":2,"
                + "\"nan\":null,\"none\":null,\"ok\":true,\"list\":[1,null,\"s\"]}");
    }

    @Test
    void aListOfNumbersStaysOnOneLine() {
        String json = Json.write(Map.of("values", Arrays.asList(1.5, null, 2.0), "mixed", Arrays.asList(1, "s")));
        assertThat(json.lines()).anySatisfy(line -> assertThat(line).contains("\"values\": [1.5, null, 2]"));
        assertThat(json.lines().filter(line -> line.contains("\"s\"")).findFirst()).hasValueSatisfying(
                line -> assertThat(line.trim()).isEqualTo("\"s\""));
    }

    @Test
    void emptyContainers() {
        assertThat(Json.write(Map.of()).trim()).isEqualTo("{}");
        assertThat(Json.write(List.of()).trim()).isEqualTo("[]");
    }
}
