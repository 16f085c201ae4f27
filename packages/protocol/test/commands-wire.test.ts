/**
 * The plugin-command additions to DomainPluginService (not in QNTX's current proto): their
 * method paths, their field numbers, and their presence in `domainServiceDefinition` (the
 * service both host and SDK register, with the hand WebSocket codec).
 */
import { describe, expect, it } from "@jest/globals";
import { CommandInfo, DomainPluginServiceService, ExecuteCommandRequest, ExecuteCommandResponse, domainServiceDefinition } from "../src/index.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("Commands and ExecuteCommand", () => {
  it("have the method paths of package protocol and are in domainServiceDefinition", () => {
    expect(domainServiceDefinition.commands.path).toBe("/protocol.DomainPluginService/Commands");
    expect(domainServiceDefinition.executeCommand.path).toBe("/protocol.DomainPluginService/ExecuteCommand");
    expect(domainServiceDefinition.executeCommand).toBe(DomainPluginServiceService.executeCommand);
    // Every existing method is still there, unchanged.
    for (const key of Object.keys(DomainPluginServiceService) as Array<keyof typeof DomainPluginServiceService>) {
      expect(domainServiceDefinition[key].path).toBe(DomainPluginServiceService[key].path);
    }
  });

  it("encode the field numbers proto/domain.proto gives them", () => {
    // ExecuteCommandResponse{1 bytes stdout "a", 2 bytes stderr "b", 3 int32 exit_code 3}.
    expect(hex(ExecuteCommandResponse.encode({ stdout: Buffer.from("a"), stderr: Buffer.from("b"), exitCode: 3 }).finish())).toBe("0a01611201621803");
    // ExecuteCommandRequest{1 command "c", 2 args ["x"], 4 stdin "i", 6 cwd "/"}.
    const request = ExecuteCommandRequest.fromPartial({ command: "c", args: ["x"], stdin: Buffer.from("i"), cwd: "/" });
    expect(hex(ExecuteCommandRequest.encode(request).finish())).toBe("0a016312017822016932012f");
    // CommandInfo{1 name "n", 5 reads_stdin true}.
    expect(hex(CommandInfo.encode(CommandInfo.fromPartial({ name: "n", readsStdin: true })).finish())).toBe("0a016e2801");
  });

  it("round-trip flags and env maps", () => {
    const request = ExecuteCommandRequest.fromPartial({ command: "c", flags: { shout: "true" }, env: { LANG: "C" } });
    expect(ExecuteCommandRequest.decode(ExecuteCommandRequest.encode(request).finish())).toMatchObject({ flags: { shout: "true" }, env: { LANG: "C" } });
  });
});
