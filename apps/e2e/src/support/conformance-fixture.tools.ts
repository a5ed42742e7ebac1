import { Injectable } from '@nestjs/common';
import { McpTool, RelayedToolResult, ToolError } from '@crossauth/mcp-server';

// A 1×1 red PNG and a 1-sample 8 kHz WAV: the smallest media the suite accepts.
const RED_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const ONE_SAMPLE_WAV = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([38, 0, 0, 0]),
  Buffer.from('WAVEfmt '),
  Buffer.from([16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]),
  Buffer.from('data'),
  Buffer.from([2, 0, 0, 0, 0, 0]),
]).toString('base64');

/**
 * The tools the MCP conformance suite's tools-call scenarios call by name,
 * served by the libraries both apps are built on (libs/auth and
 * libs/mcp-server). The apps do not have these tools; this is how the suite
 * reaches our tools/call path, results and tool errors. Each needs `read`, so
 * the suite also goes through the scope check.
 */
@Injectable()
export class ConformanceFixtureTools {
  @McpTool({ name: 'test_simple_text', description: 'Returns one text block.', scopes: ['read'] })
  simpleText() {
    return 'This is a simple text response for testing.';
  }

  @McpTool({ name: 'test_error_handling', description: 'Always fails, as a tool error.', scopes: ['read'] })
  errorHandling(): never {
    throw new ToolError('This tool intentionally returns an error for testing', 'fixture_error');
  }

  @McpTool({ name: 'test_image_content', description: 'Returns a PNG.', scopes: ['read'] })
  image() {
    return new RelayedToolResult({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] });
  }

  @McpTool({ name: 'test_audio_content', description: 'Returns a WAV.', scopes: ['read'] })
  audio() {
    return new RelayedToolResult({ content: [{ type: 'audio', data: ONE_SAMPLE_WAV, mimeType: 'audio/wav' }] });
  }

  @McpTool({ name: 'test_embedded_resource', description: 'Returns an embedded text resource.', scopes: ['read'] })
  embeddedResource() {
    return new RelayedToolResult({
      content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
    });
  }

  @McpTool({ name: 'test_multiple_content_types', description: 'Returns text, an image and a resource.', scopes: ['read'] })
  mixed() {
    return new RelayedToolResult({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
      ],
    });
  }
}
