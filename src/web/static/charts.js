// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json" id="ID">.
// Served from /static (the page CSP forbids inline scripts); Chart.js is loaded before this file.
(() => {
  var PALETTE = [
    '#1f5fa8',
    '#c0392b',
    '#2e8b57',
    '#b8860b',
    '#7d3c98',
    '#16828a',
    '#a0522d',
    '#556b2f',
    '#d35400',
    '#34495e',
  ];
  function draw() {
    if (typeof window.Chart !== 'function') return;
    var reduce = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
    document.querySelectorAll('canvas[data-chart]').forEach((canvas) => {
      var src = document.getElementById(canvas.getAttribute('data-chart'));
      if (!src) return;
      var data;
      try {
        data = JSON.parse(src.textContent || '{}');
      } catch {
        return;
      }
      var kind = canvas.getAttribute('data-kind') || 'line';
      var stacked = kind === 'stacked';
      data.datasets.forEach((d, i) => {
        var c = PALETTE[i % PALETTE.length];
        d.backgroundColor = c;
        d.borderColor = c;
        d.borderWidth = kind === 'line' ? 2 : 0;
        d.pointRadius = 0;
      });
      var chart = new window.Chart(canvas, {
        type: kind === 'line' ? 'line' : 'bar',
        data: data,
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: reduce ? false : { duration: 300 },
          interaction: { mode: 'index', intersect: false },
          plugins: { legend: { display: data.datasets.length > 1, position: 'bottom' } },
          scales: {
            x: { stacked: stacked, ticks: { maxRotation: 0, autoSkip: true } },
            y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } },
          },
        },
      });
      canvas.setAttribute('data-rendered', 'true');
      canvas.chart = chart;
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
