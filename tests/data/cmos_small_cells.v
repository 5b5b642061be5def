// Simulation models of tests/data/cmos_small.lib (hand-written test library).

module inv_1(input a, output z);
  assign z = ~a;
endmodule

module nand2_1(input a, input b, output z);
  assign z = ~(a & b);
endmodule

module nor2_1(input a, input b, output z);
  assign z = ~(a | b);
endmodule

module xor2_1(input a, input b, output z);
  assign z = a ^ b;
endmodule

module buf_1(input a, output z);
  assign z = a;
endmodule

module dff_1(input clk, input d, output reg q);
  always @(posedge clk) q <= d;
endmodule
