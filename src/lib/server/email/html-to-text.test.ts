import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText } from './html-to-text';

describe('htmlToText', () => {
  it('reads headings, paragraphs, line breaks and nested lists', () => {
    const html = '<h2>Что нового</h2><p>Первая строка<br>вторая</p><ol><li>Формы<ul><li>встраиваемые</li></ul></li><li>Скоринг</li></ol><h3>Details</h3><p>End</p>';
    expect(htmlToText(html)).toBe('ЧТО НОВОГО\n\nПервая строка\nвторая\n\n1. Формы\n  - встраиваемые\n2. Скоринг\n\nDetails\n\nEnd');
  });

  it('writes links as "text (url)" and skips what a reader does not see', () => {
    const html = '<head><title>T</title><style>p{}</style></head><div style="display:none">preheader</div><p><a href="https://ex.com/?a=1&amp;b=2">Open</a>, <a href="https://ex.com">https://ex.com</a>, <a href="mailto:hi@ex.com">hi@ex.com</a><script>x()</script> <img src="x.png" alt="Logo"></p>';
    expect(htmlToText(html)).toBe('Open (https://ex.com/?a=1&b=2), https://ex.com, hi@ex.com Logo');
  });

  it('decodes entities', () => {
    expect(decodeEntities('&laquo;A&raquo; &#1044; &#x41; &nbsp;&bogus;')).toBe('«A» Д A  &bogus;');
  });
});
